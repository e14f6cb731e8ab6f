//! The submitter thread, alone in its own test binary so that counting the process's threads
//! is not disturbed by other tests running in parallel.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use uring_core::{File, Mode, Op, Options, Ring};

fn submit_threads() -> usize {
  std::fs::read_dir("/proc/self/task")
    .unwrap()
    .filter(|t| {
      let comm = t.as_ref().unwrap().path().join("comm");
      std::fs::read_to_string(comm)
        .map(|c| c.trim() == "uring-submit")
        .unwrap_or(false)
    })
    .count()
}

#[test]
fn the_thread_submits_published_ops_and_is_joined_on_drop() {
  let dir = std::env::temp_dir().join(format!("uring-core-submitter-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join("data");
  let data: Vec<u8> = (0..256 * 1024).map(|i| (i / 4096) as u8).collect();
  std::fs::File::create(&path).unwrap().write_all(&data).unwrap();
  let f = std::fs::File::open(&path).unwrap();

  assert_eq!(submit_threads(), 0);
  let mut ring: Ring<Vec<u8>> = Ring::new(Options {
    entries: 64,
    sqpoll: None,
    submitter: true,
    files: 0,
    executor: 0,
  })
  .unwrap();
  assert_eq!(ring.mode(), Mode::Submitter);
  // The thread names itself once it runs.
  let deadline = Instant::now() + Duration::from_secs(2);
  while submit_threads() == 0 && Instant::now() < deadline {
    std::thread::sleep(Duration::from_millis(1));
  }
  assert_eq!(submit_threads(), 1, "one thread per ring");

  // Publish only, never flush: the ops reach the kernel only if the thread submits them.
  for round in 0..20 {
    for k in 0..64u64 {
      let mut buf = vec![0u8; 4096];
      let op = Op::Read {
        fd: File::Fd(f.as_raw_fd()),
        buf: buf.as_mut_ptr(),
        len: 4096,
        offset: k * 4096,
      };
      unsafe { ring.push(op, buf) };
      ring.publish().unwrap();
    }
    let mut done = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while done < 64 {
      assert!(
        Instant::now() < deadline,
        "round {round}: {done} of 64 reads completed without a flush"
      );
      let mut pfd = libc::pollfd {
        fd: ring.poll_fd(),
        events: libc::POLLIN,
        revents: 0,
      };
      unsafe { libc::poll(&mut pfd, 1, 100) };
      ring.reap(usize::MAX, |c| {
        assert_eq!(c.result, 4096);
        let (op, buf) = c.done.unwrap();
        let Op::Read { offset, .. } = op else {
          panic!("not a read")
        };
        assert!(
          buf.iter().all(|&b| b as u64 == offset / 4096),
          "read the right block"
        );
        done += 1;
      });
    }
  }
  let s = ring.stats();
  assert_eq!((s.submitted, s.completed, s.in_flight), (1280, 1280, 0));
  assert!(s.enter_calls > 0, "the thread's io_uring_enter calls are counted");

  drop(ring);
  assert_eq!(submit_threads(), 0, "dropping an idle ring joins its thread");
  std::fs::remove_dir_all(&dir).unwrap();
}
