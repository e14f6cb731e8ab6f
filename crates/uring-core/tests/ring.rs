use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use uring_core::{Completion, File, Mode, Op, Options, Ring, SqPoll, AT_FDCWD};

fn tmpfile(name: &str, data: &[u8]) -> (std::path::PathBuf, std::fs::File) {
  let dir = std::env::temp_dir().join(format!("uring-core-test-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join(name);
  let mut f = std::fs::File::create(&path).unwrap();
  f.write_all(data).unwrap();
  drop(f);
  let f = std::fs::File::open(&path).unwrap();
  (path, f)
}

fn c(p: &std::path::Path) -> CString {
  CString::new(p.to_str().unwrap()).unwrap()
}

/// Runs the ring until every op completed, collecting completions.
fn run<T>(ring: &mut Ring<T>) -> Vec<Completion<T>> {
  let mut out = Vec::new();
  let left = ring.drain(Duration::from_secs(5), |c| out.push(c));
  assert_eq!(left, 0, "ops left in flight");
  out
}

fn read_op(fd: i32, buf: &mut Vec<u8>, offset: u64) -> Op {
  Op::Read {
    fd: File::Fd(fd),
    buf: buf.as_mut_ptr(),
    len: buf.len() as u32,
    offset,
  }
}

#[test]
fn setup_prefers_defer_taskrun_and_probes() {
  let ring: Ring<()> = Ring::new(Options::default()).unwrap();
  assert_eq!(
    ring.mode(),
    Mode::DeferTaskrun,
    "Linux 6.1+ accepts DEFER_TASKRUN"
  );
  let ops = ring.supported_ops();
  for op in [
    "read",
    "write",
    "openat",
    "statx",
    "close",
    "fsync",
    "unlinkat",
    "renameat",
    "mkdirat",
    "symlinkat",
    "linkat",
    "ftruncate",
    "fallocate",
    "fadvise",
  ] {
    assert!(ops.contains(&op), "{op} missing from {ops:?}");
  }
  assert_eq!(ring.sq_entries(), 256);
  assert!(ring.cq_entries() >= 512);
}

#[test]
fn rejects_bad_options() {
  assert!(Ring::<()>::new(Options {
    entries: 0,
    ..Options::default()
  })
  .is_err());
  assert!(Ring::<()>::new(Options {
    entries: 65536,
    ..Options::default()
  })
  .is_err());
  let zero_idle = Options {
    entries: 8,
    sqpoll: Some(SqPoll {
      idle_ms: 0,
      cpu: None,
    }),
    submitter: false,
    files: 0,
    executor: 0,
  };
  assert!(Ring::<()>::new(zero_idle).is_err());
}

/// Declares `$name` as two tests: on a ring that submits inline, and on one with a submitter thread.
macro_rules! both_modes {
  ($name:ident, $body:ident) => {
    mod $name {
      #[test]
      fn inline() {
        super::$body(false);
      }
      #[test]
      fn submitter_thread() {
        super::$body(true);
      }
    }
  };
}

fn opts(entries: u32, submitter: bool) -> Options {
  Options {
    entries,
    sqpoll: None,
    submitter,
    files: 0,
    executor: 0,
  }
}

both_modes!(
  reads_return_file_contents_and_buffers_come_back,
  reads_return_file_contents
);
fn reads_return_file_contents(submitter: bool) {
  // Block k of the file holds the byte k, so each buffer says which block it read.
  let data: Vec<u8> = (0..64 * 1024).map(|i| (i / 1024) as u8).collect();
  let (_p, f) = tmpfile(
    if submitter {
      "reads-submitter"
    } else {
      "reads-inline"
    },
    &data,
  );
  let mut ring: Ring<Vec<u8>> = Ring::new(opts(8, submitter)).unwrap();
  assert_eq!(ring.mode() == Mode::Submitter, submitter);
  // 64 reads through an 8-entry ring: most wait in the queue (backpressure, never loss).
  for i in 0..64u64 {
    let mut buf = vec![0xffu8; 1024];
    let op = read_op(f.as_raw_fd(), &mut buf, i * 1024);
    unsafe { ring.push(op, buf) };
  }
  assert_eq!(ring.stats().in_flight, 64);
  let done = run(&mut ring);
  assert_eq!(done.len(), 64);
  let mut seen = [false; 64];
  for c in done {
    assert_eq!(c.result, 1024);
    let (_, buf) = c.done.unwrap();
    let k = buf[0] as usize;
    assert!(buf.iter().all(|&b| b as usize == k), "buffer holds one block");
    assert!(!seen[k], "block {k} read twice");
    seen[k] = true;
  }
  assert!(seen.iter().all(|&s| s));
  let s = ring.stats();
  assert_eq!((s.submitted, s.completed, s.in_flight, s.queued), (64, 64, 0, 0));
  assert!(
    s.enter_calls >= 8,
    "an 8-entry ring needs at least 8 submits for 64 ops"
  );
}

#[test]
fn write_open_statx_rename_unlink_mkdir() {
  let dir = std::env::temp_dir().join(format!("uring-core-fsops-{}", std::process::id()));
  let _ = std::fs::remove_dir_all(&dir);
  std::fs::create_dir_all(&dir).unwrap();
  let mut ring: Ring<Vec<u8>> = Ring::new(Options::default()).unwrap();

  let sub = dir.join("sub");
  unsafe {
    ring.push(
      Op::MkdirAt {
        dirfd: AT_FDCWD,
        path: c(&sub),
        mode: 0o755,
      },
      vec![],
    )
  };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert!(sub.is_dir());

  let file = sub.join("f");
  let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;
  unsafe {
    ring.push(
      Op::OpenAt {
        dirfd: AT_FDCWD,
        path: c(&file),
        flags,
        mode: 0o644,
        slot: None,
      },
      vec![],
    )
  };
  let fd = run(&mut ring)[0].result;
  assert!(fd >= 0);
  let buf = b"hello uring".to_vec();
  let op = Op::Write {
    fd: File::Fd(fd),
    buf: buf.as_ptr(),
    len: buf.len() as u32,
    offset: 0,
  };
  unsafe { ring.push(op, buf) };
  assert_eq!(run(&mut ring)[0].result, 11);
  unsafe { ring.push(Op::Close { fd: File::Fd(fd) }, vec![]) };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert_eq!(std::fs::read(&file).unwrap(), b"hello uring");

  let mut sx = vec![0u8; std::mem::size_of::<libc::statx>()];
  let op = Op::Statx {
    dirfd: AT_FDCWD,
    path: c(&file),
    flags: 0,
    mask: libc::STATX_ALL,
    buf: sx.as_mut_ptr(),
  };
  unsafe { ring.push(op, sx) };
  let done = run(&mut ring).pop().unwrap();
  assert_eq!(done.result, 0);
  let (_, sx) = done.done.unwrap();
  let stx: libc::statx = unsafe { std::ptr::read_unaligned(sx.as_ptr().cast()) };
  assert_eq!(stx.stx_size, 11);

  let moved = sub.join("g");
  let op = Op::RenameAt {
    olddirfd: AT_FDCWD,
    oldpath: c(&file),
    newdirfd: AT_FDCWD,
    newpath: c(&moved),
    flags: 0,
  };
  unsafe { ring.push(op, vec![]) };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert!(moved.exists() && !file.exists());

  unsafe {
    ring.push(
      Op::UnlinkAt {
        dirfd: AT_FDCWD,
        path: c(&file),
        flags: 0,
      },
      vec![],
    )
  };
  assert_eq!(
    run(&mut ring)[0].result,
    -libc::ENOENT,
    "errors come back as -errno"
  );
  unsafe {
    ring.push(
      Op::UnlinkAt {
        dirfd: AT_FDCWD,
        path: c(&moved),
        flags: 0,
      },
      vec![],
    )
  };
  unsafe {
    ring.push(
      Op::UnlinkAt {
        dirfd: AT_FDCWD,
        path: c(&sub),
        flags: libc::AT_REMOVEDIR,
      },
      vec![],
    )
  };
  // Unordered: the rmdir may run before the unlink, so retry it once if it raced.
  let results: Vec<i32> = run(&mut ring).iter().map(|c| c.result).collect();
  if results.contains(&-libc::ENOTEMPTY) {
    unsafe {
      ring.push(
        Op::UnlinkAt {
          dirfd: AT_FDCWD,
          path: c(&sub),
          flags: libc::AT_REMOVEDIR,
        },
        vec![],
      )
    };
    run(&mut ring);
  }
  assert!(!sub.exists());
  std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn symlink_link_ftruncate_fallocate_fadvise() {
  let dir = std::env::temp_dir().join(format!("uring-core-links-{}", std::process::id()));
  let _ = std::fs::remove_dir_all(&dir);
  std::fs::create_dir_all(&dir).unwrap();
  let mut ring: Ring<()> = Ring::new(Options::default()).unwrap();
  let file = dir.join("f");
  std::fs::write(&file, b"0123456789").unwrap();

  let sym = dir.join("sym");
  unsafe {
    ring.push(
      Op::SymlinkAt {
        target: c(std::path::Path::new("f")),
        newdirfd: AT_FDCWD,
        linkpath: c(&sym),
      },
      (),
    )
  };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert_eq!(std::fs::read_link(&sym).unwrap(), std::path::Path::new("f"));
  let hard = dir.join("hard");
  let op = Op::LinkAt {
    olddirfd: AT_FDCWD,
    oldpath: c(&file),
    newdirfd: AT_FDCWD,
    newpath: c(&hard),
    flags: 0,
  };
  unsafe { ring.push(op, ()) };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert_eq!(std::fs::read(&hard).unwrap(), b"0123456789");
  let op = Op::LinkAt {
    olddirfd: AT_FDCWD,
    oldpath: c(&file),
    newdirfd: AT_FDCWD,
    newpath: c(&hard),
    flags: 0,
  };
  unsafe { ring.push(op, ()) };
  assert_eq!(run(&mut ring)[0].result, -libc::EEXIST);

  let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
  let fd = f.as_raw_fd();
  unsafe { ring.push(Op::Ftruncate { fd, len: 4 }, ()) };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert_eq!(std::fs::read(&file).unwrap(), b"0123");
  unsafe {
    ring.push(
      Op::Fallocate {
        fd,
        mode: 0,
        offset: 0,
        len: 4096,
      },
      (),
    )
  };
  assert_eq!(run(&mut ring)[0].result, 0);
  assert_eq!(std::fs::metadata(&file).unwrap().len(), 4096);
  unsafe {
    ring.push(
      Op::Fadvise {
        fd: File::Fd(fd),
        offset: 0,
        len: 0,
        advice: libc::POSIX_FADV_SEQUENTIAL,
      },
      (),
    )
  };
  assert_eq!(run(&mut ring)[0].result, 0);
  unsafe {
    ring.push(
      Op::Fadvise {
        fd: File::Fd(fd),
        offset: 0,
        len: 0,
        advice: 12345,
      },
      (),
    )
  };
  assert_eq!(run(&mut ring)[0].result, -libc::EINVAL);
  drop(f);
  std::fs::remove_dir_all(&dir).unwrap();
}

fn pipe() -> (i32, i32) {
  let mut fds = [0; 2];
  assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
  (fds[0], fds[1])
}

both_modes!(
  cancel_all_completes_blocked_ops_and_returns_their_memory,
  cancel_all_completes
);
fn cancel_all_completes(submitter: bool) {
  let (r, w) = pipe();
  // Counting owners proves the ring held `keep` until the cancelled op's CQE.
  let keep = Rc::new(());
  let mut ring: Ring<(Vec<u8>, Rc<()>)> = Ring::new(opts(2, submitter)).unwrap();
  for _ in 0..5 {
    let mut buf = vec![0u8; 16];
    let op = read_op(r, &mut buf, u64::MAX);
    unsafe { ring.push(op, (buf, keep.clone())) };
  }
  ring.flush().unwrap();
  let mut early = Vec::new();
  ring.reap(usize::MAX, |c| early.push(c.result));
  assert!(early.is_empty(), "nothing can complete on an empty pipe");
  assert_eq!(Rc::strong_count(&keep), 6, "the ring owns all five buffers");
  assert_eq!(ring.stats().queued, 3, "cap of 2 leaves three queued");
  ring.cancel_all().unwrap();
  let done = run(&mut ring);
  assert_eq!(done.len(), 5);
  assert!(
    done
      .iter()
      .all(|c| c.result == -libc::ECANCELED || c.result == -libc::EINTR),
    "{:?}",
    done.iter().map(|c| c.result).collect::<Vec<_>>()
  );
  drop(done);
  assert_eq!(
    Rc::strong_count(&keep),
    1,
    "all memory handed back after the final CQEs"
  );
  unsafe { libc::close(r) };
  unsafe { libc::close(w) };
}

both_modes!(cancel_stops_one_op_and_leaves_the_others, cancel_one);
fn cancel_one(submitter: bool) {
  let (r, w) = pipe();
  let keep = Rc::new(());
  // Cap 2: tokens 0 and 1 go into the kernel, token 2 waits in the queue.
  let mut ring: Ring<(Vec<u8>, Rc<()>)> = Ring::new(opts(2, submitter)).unwrap();
  let mut tokens = Vec::new();
  for _ in 0..3 {
    let mut buf = vec![0u8; 4];
    let op = read_op(r, &mut buf, u64::MAX);
    tokens.push(unsafe { ring.push(op, (buf, keep.clone())) });
  }
  ring.flush().unwrap();
  assert_eq!(ring.stats().queued, 1);
  // One in the kernel and the queued one are cancelled; the other stays and still reads.
  assert!(ring.cancel(tokens[0]).unwrap());
  assert!(ring.cancel(tokens[2]).unwrap());
  assert!(!ring.cancel(999).unwrap(), "not an op in flight");
  let mut got = Vec::new();
  let deadline = std::time::Instant::now() + Duration::from_secs(5);
  while got.len() < 2 && std::time::Instant::now() < deadline {
    let _ = ring.flush();
    ring.reap(usize::MAX, |c| got.push((c.token, c.result)));
  }
  got.sort();
  assert_eq!(got.len(), 2, "{got:?}");
  assert_eq!(got[0].0, tokens[0]);
  assert!(
    got[0].1 == -libc::ECANCELED || got[0].1 == -libc::EINTR,
    "{got:?}"
  );
  assert_eq!(got[1], (tokens[2], -libc::ECANCELED));
  assert_eq!(ring.in_flight(), 1);
  assert_eq!(unsafe { libc::write(w, b"data".as_ptr().cast(), 4) }, 4);
  let done = run(&mut ring);
  assert_eq!((done[0].token, done[0].result), (tokens[1], 4));
  drop(done);
  assert_eq!(Rc::strong_count(&keep), 1);
  unsafe { libc::close(r) };
  unsafe { libc::close(w) };
}

both_modes!(
  dropping_a_ring_with_ops_in_flight_leaks_rather_than_frees,
  dropping_leaks
);
fn dropping_leaks(submitter: bool) {
  let (r, w) = pipe();
  let keep = Rc::new(());
  {
    let mut ring: Ring<(Vec<u8>, Rc<()>)> = Ring::new(opts(256, submitter)).unwrap();
    let mut buf = vec![0u8; 16];
    let op = read_op(r, &mut buf, u64::MAX);
    unsafe { ring.push(op, (buf, keep.clone())) };
    ring.flush().unwrap();
  }
  assert_eq!(
    Rc::strong_count(&keep),
    2,
    "a buffer the kernel may still write is never freed by drop"
  );
  unsafe { libc::close(r) };
  unsafe { libc::close(w) };
}

both_modes!(completion_arrives_after_data_shows_up_on_a_pipe, pipe_completion);
fn pipe_completion(submitter: bool) {
  let (r, w) = pipe();
  let mut ring: Ring<Vec<u8>> = Ring::new(opts(256, submitter)).unwrap();
  let mut buf = vec![0u8; 5];
  let op = read_op(r, &mut buf, u64::MAX);
  unsafe { ring.push(op, buf) };
  ring.flush().unwrap();
  // Poll on the ring fd must report readiness once the deferred completion is pending: this is
  // what the Node binding waits on.
  ring.clear_wakeup();
  let mut pfd = libc::pollfd {
    fd: ring.poll_fd(),
    events: libc::POLLIN,
    revents: 0,
  };
  assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 0, "not ready before data");
  let writer = std::thread::spawn(move || {
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(unsafe { libc::write(w, b"hello".as_ptr().cast(), 5) }, 5);
    w
  });
  let t0 = std::time::Instant::now();
  assert_eq!(
    unsafe { libc::poll(&mut pfd, 1, 5000) },
    1,
    "ring fd became readable"
  );
  assert!(
    t0.elapsed() < Duration::from_secs(2),
    "woken by the completion, not by the timeout"
  );
  let w = writer.join().unwrap();
  let mut got = Vec::new();
  ring.reap(usize::MAX, |c| got.push(c));
  assert_eq!(got.len(), 1);
  assert_eq!(got[0].result, 5);
  assert_eq!(&got[0].done.as_ref().unwrap().1[..], b"hello");
  unsafe { libc::close(r) };
  unsafe { libc::close(w) };
}

/// Runs the ring until every op completed; returns the results of `tokens`, in that order.
fn results<T>(ring: &mut Ring<T>, tokens: &[u32]) -> Vec<i32> {
  let done: Vec<(u32, i32)> = run(ring).iter().map(|c| (c.token, c.result)).collect();
  tokens
    .iter()
    .map(|t| done.iter().find(|d| d.0 == *t).expect("token completed").1)
    .collect()
}

both_modes!(a_chain_runs_in_order_and_a_failure_cancels_the_rest, chains);
fn chains(submitter: bool) {
  let (path, f) = tmpfile(&format!("chain-{submitter}"), b"");
  drop(f);
  let fd = unsafe { libc::open(c(&path).as_ptr(), libc::O_RDWR) };
  assert!(fd >= 0);
  let mut ring: Ring<Vec<u8>> = Ring::new(opts(8, submitter)).unwrap();

  // write -> fsync -> read of what was written: in order, each after the previous.
  let data = b"linked".to_vec();
  let mut back = vec![0u8; 6];
  let (w, r) = (data.as_ptr(), back.as_mut_ptr());
  ring.begin_chain();
  let t = unsafe {
    [
      ring.push(
        Op::Write {
          fd: File::Fd(fd),
          buf: w,
          len: 6,
          offset: 0,
        },
        data,
      ),
      ring.push(Op::Fsync { fd, datasync: true }, vec![]),
      ring.push(
        Op::Read {
          fd: File::Fd(fd),
          buf: r,
          len: 6,
          offset: 0,
        },
        back,
      ),
    ]
  };
  // An open chain is not submitted, however often the ring is flushed.
  ring.flush().unwrap();
  assert_eq!((ring.stats().queued, ring.stats().submitted), (3, 0));
  ring.end_chain().unwrap();
  let done = run(&mut ring);
  let step = |i: usize| done.iter().find(|c| c.token == t[i]).unwrap();
  assert_eq!([step(0).result, step(1).result, step(2).result], [6, 0, 6]);
  assert_eq!(&step(2).done.as_ref().unwrap().1[..], b"linked");

  // A failed op cancels the ops linked after it; an op pushed after the chain still runs.
  ring.begin_chain();
  let mut t = unsafe {
    vec![
      ring.push(
        Op::Fsync {
          fd: -1,
          datasync: false,
        },
        vec![],
      ),
      ring.push(Op::Nop, vec![]),
      ring.push(Op::Nop, vec![]),
    ]
  };
  ring.end_chain().unwrap();
  t.push(unsafe { ring.push(Op::Nop, vec![]) });
  assert_eq!(
    results(&mut ring, &t),
    vec![-libc::EBADF, -libc::ECANCELED, -libc::ECANCELED, 0]
  );

  // A short read counts as a failure for the link.
  let mut big = vec![0u8; 64];
  let p = big.as_mut_ptr();
  ring.begin_chain();
  let t = unsafe {
    [
      ring.push(
        Op::Read {
          fd: File::Fd(fd),
          buf: p,
          len: 64,
          offset: 0,
        },
        big,
      ),
      ring.push(Op::Nop, vec![]),
    ]
  };
  ring.end_chain().unwrap();
  assert_eq!(results(&mut ring, &t), vec![6, -libc::ECANCELED]);

  // A hard link goes on past a short read or a failure, but not past an op cancelled because
  // an earlier link broke.
  let mut big = vec![0u8; 64];
  let p = big.as_mut_ptr();
  ring.begin_chain();
  let mut t = vec![unsafe {
    ring.push(
      Op::Read {
        fd: File::Fd(fd),
        buf: p,
        len: 64,
        offset: 0,
      },
      big,
    )
  }];
  ring.harden_link();
  t.push(unsafe {
    ring.push(
      Op::Fsync {
        fd: -1,
        datasync: false,
      },
      vec![],
    )
  });
  ring.harden_link();
  t.push(unsafe { ring.push(Op::Nop, vec![]) });
  ring.end_chain().unwrap();
  assert_eq!(results(&mut ring, &t), vec![6, -libc::EBADF, 0]);
  ring.begin_chain();
  let mut t = vec![unsafe {
    ring.push(
      Op::Fsync {
        fd: -1,
        datasync: false,
      },
      vec![],
    )
  }];
  t.push(unsafe { ring.push(Op::Nop, vec![]) });
  ring.harden_link();
  t.push(unsafe { ring.push(Op::Nop, vec![]) });
  ring.end_chain().unwrap();
  assert_eq!(
    results(&mut ring, &t),
    vec![-libc::EBADF, -libc::ECANCELED, -libc::ECANCELED]
  );

  // Cancelling a queued op of a chain cancels the whole chain, and nothing else.
  let (pr, pw) = pipe();
  let mut blocked = Vec::new();
  for _ in 0..8 {
    let mut b = vec![0u8; 1];
    let op = read_op(pr, &mut b, u64::MAX);
    blocked.push(unsafe { ring.push(op, b) });
  }
  ring.flush().unwrap();
  ring.begin_chain();
  let chain: Vec<u32> = (0..3).map(|_| unsafe { ring.push(Op::Nop, vec![]) }).collect();
  ring.end_chain().unwrap();
  let after = unsafe { ring.push(Op::Nop, vec![]) };
  ring.flush().unwrap();
  assert_eq!(
    ring.stats().queued,
    4,
    "the cap of 8 is taken by the blocked reads"
  );
  assert!(ring.cancel(chain[1]).unwrap());
  let mut got = Vec::new();
  ring.reap(usize::MAX, |c| got.push((c.token, c.result)));
  got.sort();
  assert_eq!(
    got,
    chain.iter().map(|&t| (t, -libc::ECANCELED)).collect::<Vec<_>>()
  );
  assert_eq!(ring.stats().queued, 1);
  ring.cancel_all().unwrap();
  let rest = run(&mut ring);
  assert_eq!(rest.len(), 9);
  assert!(rest.iter().any(|c| c.token == after));
  assert!(blocked.iter().all(|t| rest.iter().any(|c| c.token == *t)));
  unsafe {
    libc::close(pr);
    libc::close(pw);
    libc::close(fd);
  }

  // An aborted chain never runs; what was pushed before it does.
  let before = unsafe { ring.push(Op::Nop, vec![]) };
  ring.begin_chain();
  let mut t: Vec<u32> = (0..2).map(|_| unsafe { ring.push(Op::Nop, vec![]) }).collect();
  ring.abort_chain();
  t.insert(0, before);
  assert_eq!(
    results(&mut ring, &t),
    vec![0, -libc::ECANCELED, -libc::ECANCELED]
  );

  // A chain longer than the SQ can never run: refused, its ops cancelled.
  ring.begin_chain();
  let t: Vec<u32> = (0..=ring.sq_entries())
    .map(|_| unsafe { ring.push(Op::Nop, vec![]) })
    .collect();
  assert_eq!(ring.end_chain().unwrap_err().raw_os_error(), Some(libc::EINVAL));
  assert!(results(&mut ring, &t).iter().all(|&r| r == -libc::ECANCELED));
}

both_modes!(open_into_a_file_slot_read_and_close_as_one_chain, fixed_files);
fn fixed_files(submitter: bool) {
  let (path, f) = tmpfile(&format!("fixed-{submitter}"), b"direct descriptor");
  drop(f);
  let mut ring: Ring<Vec<u8>> = Ring::new(Options {
    files: 4,
    ..opts(16, submitter)
  })
  .unwrap();
  assert_eq!(ring.files(), 4);
  let mut buf = vec![0u8; 64];
  let p = buf.as_mut_ptr();
  ring.begin_chain();
  let t = unsafe {
    [
      ring.push(
        Op::OpenAt {
          dirfd: AT_FDCWD,
          path: c(&path),
          flags: libc::O_RDONLY,
          mode: 0,
          slot: Some(2),
        },
        vec![],
      ),
      ring.push(
        Op::Read {
          fd: File::Fixed(2),
          buf: p,
          len: 64,
          offset: u64::MAX,
        },
        buf,
      ),
    ]
  };
  ring.end_chain().unwrap();
  let done = run(&mut ring);
  let step = |i: usize| done.iter().find(|c| c.token == t[i]).unwrap();
  assert_eq!(
    (step(0).result, step(1).result),
    (0, 17),
    "open into a slot completes with 0"
  );
  assert_eq!(&step(1).done.as_ref().unwrap().1[..17], b"direct descriptor");
  let fds_on_file = std::fs::read_dir("/proc/self/fd")
    .unwrap()
    .flatten()
    .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == path));
  assert_eq!(fds_on_file.count(), 0, "a slot is not an fd");
  // The slot keeps its file position until it is closed; then it is empty.
  let mut more = vec![0u8; 8];
  let p = more.as_mut_ptr();
  let t = unsafe {
    [
      ring.push(
        Op::Read {
          fd: File::Fixed(2),
          buf: p,
          len: 8,
          offset: u64::MAX,
        },
        more,
      ),
      ring.push(Op::Close { fd: File::Fixed(2) }, vec![]),
    ]
  };
  assert_eq!(results(&mut ring, &t), vec![0, 0], "read at EOF, then close");
  let mut again = vec![0u8; 8];
  let p = again.as_mut_ptr();
  let t = unsafe {
    [
      ring.push(
        Op::Read {
          fd: File::Fixed(2),
          buf: p,
          len: 8,
          offset: 0,
        },
        again,
      ),
      ring.push(Op::Close { fd: File::Fixed(3) }, vec![]),
    ]
  };
  assert_eq!(
    results(&mut ring, &t),
    vec![-libc::EBADF, -libc::EBADF],
    "empty slots"
  );
  // Opening a missing file into a slot fails like open, and cancels what is linked after it.
  let mut b = vec![0u8; 8];
  let p = b.as_mut_ptr();
  ring.begin_chain();
  let t = unsafe {
    [
      ring.push(
        Op::OpenAt {
          dirfd: AT_FDCWD,
          path: c(&path.with_extension("missing")),
          flags: libc::O_RDONLY,
          mode: 0,
          slot: Some(0),
        },
        vec![],
      ),
      ring.push(
        Op::Read {
          fd: File::Fixed(0),
          buf: p,
          len: 8,
          offset: u64::MAX,
        },
        b,
      ),
      ring.push(Op::Close { fd: File::Fixed(0) }, vec![]),
    ]
  };
  ring.end_chain().unwrap();
  assert_eq!(
    results(&mut ring, &t),
    vec![-libc::ENOENT, -libc::ECANCELED, -libc::ECANCELED]
  );
}

/// READ_FIXED/WRITE_FIXED through a registered buffer, on every kind of ring: the bytes written
/// from one part of it come back into another, and an address outside it is refused (EFAULT)
/// rather than used.
#[test]
fn fixed_buffer_reads_and_writes() {
  for opts in [
    Options::default(),
    Options {
      submitter: true,
      ..Options::default()
    },
  ] {
    let mut ring: Ring<()> = Ring::new(opts).unwrap();
    assert!(ring.supported_ops().contains(&"read_fixed"));
    let mut mem = vec![0u8; 8192];
    // SAFETY: `mem` outlives the ring (declared before it is dropped below) and is ours.
    unsafe { ring.register_buffer(mem.as_mut_ptr(), mem.len()) }.unwrap();
    for (i, b) in mem[..4096].iter_mut().enumerate() {
      *b = (i % 251) as u8;
    }
    let (path, _) = tmpfile("fixed", b"");
    let f = std::fs::OpenOptions::new()
      .read(true)
      .write(true)
      .open(&path)
      .unwrap();
    let fd = File::Fd(f.as_raw_fd());
    let base = mem.as_mut_ptr();
    let op = Op::WriteFixed {
      fd,
      buf: base,
      len: 4096,
      offset: 0,
      index: 0,
    };
    unsafe { ring.push(op, ()) };
    assert_eq!(run(&mut ring)[0].result, 4096);
    let op = Op::ReadFixed {
      fd,
      // SAFETY: inside `mem`.
      buf: unsafe { base.add(4096) },
      len: 4096,
      offset: 0,
      index: 0,
    };
    unsafe { ring.push(op, ()) };
    assert_eq!(run(&mut ring)[0].result, 4096);
    assert_eq!(mem[..4096], mem[4096..]);
    let mut outside = vec![0u8; 64];
    let op = Op::ReadFixed {
      fd,
      buf: outside.as_mut_ptr(),
      len: 64,
      offset: 0,
      index: 0,
    };
    unsafe { ring.push(op, ()) };
    assert_eq!(run(&mut ring)[0].result, -libc::EFAULT);
    assert!(outside.iter().all(|&b| b == 0));
    drop(ring);
  }
}

/// The op table's probe names (OP_NAMES, from `ops!`): each name once, each opcode once, so a
/// layer above that asks whether "an op" is supported gets one answer. The ops no kernel has
/// (EXECUTOR_ONLY) are the exception: each names MSG_RING, what the executor needs to post, and
/// no other op does (so `Op::executor_only` can tell them by it).
#[test]
fn op_names_are_unique() {
  let kernel = || {
    uring_core::OP_NAMES
      .iter()
      .filter(|(n, _)| !uring_core::EXECUTOR_ONLY.contains(n))
  };
  let mut names: Vec<&str> = uring_core::OP_NAMES.iter().map(|(n, _)| *n).collect();
  let mut codes: Vec<u8> = kernel().map(|(_, c)| *c).collect();
  assert_eq!(kernel().count(), names.len() - uring_core::EXECUTOR_ONLY.len());
  for (n, c) in uring_core::OP_NAMES {
    // Both ways: Op::executor_only() is "the row's opcode is MSG_RING".
    let msg_ring = *c == io_uring::opcode::MsgRingData::CODE;
    assert_eq!(msg_ring, uring_core::EXECUTOR_ONLY.contains(n), "{n}");
  }
  let n = names.len();
  let kernel_ops = codes.len();
  names.sort_unstable();
  names.dedup();
  codes.sort_unstable();
  codes.dedup();
  assert_eq!(names.len(), n, "a probe name twice");
  assert_eq!(codes.len(), kernel_ops, "an opcode under two names");
  assert!(kernel_ops >= 29);
}

/// An op its owner completed itself (`push_done`: the JS thread's own reads) is delivered by the
/// next reap with its result and keep, in order with the kernel's completions; it counts as
/// completed, never as submitted; cancelling it changes nothing; and `owner_may_read` says no
/// on a ring without a submitter thread, or before the owner has waited for one.
#[test]
fn push_done_is_reaped_like_a_completion() {
  for submitter in [false, true] {
    let mut ring: Ring<Rc<u32>> = Ring::new(opts(8, submitter)).unwrap();
    if !submitter {
      assert!(
        !ring.owner_may_read(0, Duration::ZERO),
        "no submitter thread, nothing to relieve"
      );
    }
    assert!(
      !ring.owner_may_read(0, Duration::from_nanos(1)),
      "no waiting yet, no slack"
    );
    let keep = Rc::new(7);
    // SAFETY: a NOP carries no pointers.
    let nop = unsafe { ring.push(Op::Nop, keep.clone()) };
    ring.flush().unwrap();
    let own = ring.push_done(Op::Nop, keep.clone(), 4096);
    assert_eq!(ring.in_flight(), 2);
    assert!(ring.cancel(own).unwrap_or(true));
    let done = run(&mut ring);
    let mut got: Vec<(u32, i32)> = done.iter().map(|c| (c.token, c.result)).collect();
    got.sort();
    let mut want = vec![(nop, 0), (own, 4096)];
    want.sort();
    assert_eq!(got, want, "submitter: {submitter}");
    assert!(done.iter().all(|c| c.done.is_some()));
    drop(done);
    assert_eq!(Rc::strong_count(&keep), 1, "every keep handed back");
    let s = ring.stats();
    assert_eq!((s.submitted, s.completed, s.in_flight), (1, 2, 0));
  }
}
