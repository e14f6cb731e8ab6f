//! The executor (`Options::executor`): STATX on its own runs on the ring's executor thread, with
//! the same results as the kernel's, posted into the CQ on every kind of ring; in a chain it
//! still goes to the kernel; a ring dropped with jobs in flight neither crashes nor frees them.

use std::ffi::CString;
use std::time::Duration;

use uring_core::{Completion, Mode, Op, Options, Ring, SqPoll, AT_FDCWD};

const SX: usize = std::mem::size_of::<libc::statx>();

fn dir(name: &str) -> std::path::PathBuf {
  let d = std::env::temp_dir().join(format!("uring-core-exec-{}-{name}", std::process::id()));
  std::fs::create_dir_all(&d).unwrap();
  d
}

fn statx(path: &std::path::Path) -> (Op, Vec<u8>) {
  let mut buf = vec![0u8; SX];
  let op = Op::Statx {
    dirfd: AT_FDCWD,
    path: c(path),
    flags: 0,
    mask: libc::STATX_BASIC_STATS,
    buf: buf.as_mut_ptr(),
  };
  (op, buf)
}

fn size_of(buf: &[u8]) -> u64 {
  // SAFETY: `buf` holds SX bytes written by statx(2) or the kernel's STATX.
  let stx: libc::statx = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
  stx.stx_size
}

fn drain(ring: &mut Ring<Vec<u8>>) -> Vec<Completion<Vec<u8>>> {
  let mut out = Vec::new();
  let left = ring.drain(Duration::from_secs(5), |c| out.push(c));
  assert_eq!(left, 0, "ops left in flight");
  out
}

fn kinds() -> Vec<(&'static str, Options)> {
  let base = Options {
    entries: 64,
    executor: 1,
    ..Options::default()
  };
  vec![
    ("default (DEFER_TASKRUN)", base),
    (
      "submitter",
      Options {
        submitter: true,
        ..base
      },
    ),
    (
      "sqpoll",
      Options {
        sqpoll: Some(SqPoll {
          idle_ms: 10,
          cpu: None,
        }),
        ..base
      },
    ),
  ]
}

#[test]
fn statx_runs_on_the_executor_with_the_kernels_results_on_every_ring_kind() {
  let d = dir("kinds");
  for i in 0..50usize {
    std::fs::write(d.join(format!("f{i}")), vec![1u8; i * 3]).unwrap();
  }
  for (name, options) in kinds() {
    let mut ring: Ring<Vec<u8>> = Ring::new(options).unwrap();
    if name.starts_with("default") {
      assert_eq!(ring.mode(), Mode::DeferTaskrun);
    }
    // 300 ops, more than the ring's cap of 64 in flight: the rest wait in the backlog.
    let mut want = std::collections::HashMap::new();
    for k in 0..300usize {
      let i = k % 60; // 50..60 do not exist: ENOENT
      let (op, buf) = statx(&d.join(format!("f{i}")));
      // SAFETY: `buf` is the op's statx buffer and is handed over as its keep.
      let token = unsafe { ring.push(op, buf) };
      want.insert(token, i);
      ring.publish().unwrap();
    }
    ring.flush().unwrap();
    let done = drain(&mut ring);
    assert_eq!(done.len(), 300, "{name}");
    for c in done {
      let i = want.remove(&c.token).expect("one completion per token");
      let (_, buf) = c.done.expect("final completion");
      if i < 50 {
        assert_eq!(c.result, 0, "{name}: f{i}");
        assert_eq!(size_of(&buf), (i * 3) as u64, "{name}: f{i}");
      } else {
        assert_eq!(c.result, -libc::ENOENT, "{name}: f{i}");
      }
    }
    let s = ring.stats();
    assert_eq!(s.executed, 300, "{name}: {s:?}");
    assert_eq!(s.submitted, 0, "{name}: {s:?}");
    assert_eq!(s.completed, 300, "{name}: {s:?}");
  }
}

#[test]
fn without_an_executor_and_in_a_chain_statx_goes_to_the_kernel() {
  let d = dir("chain");
  let f = d.join("x");
  std::fs::write(&f, b"12345").unwrap();
  let mut ring: Ring<Vec<u8>> = Ring::new(Options {
    entries: 16,
    executor: 0,
    ..Options::default()
  })
  .unwrap();
  let (op, buf) = statx(&f);
  // SAFETY: as above.
  unsafe { ring.push(op, buf) };
  ring.flush().unwrap();
  let c = drain(&mut ring).pop().unwrap();
  assert_eq!(size_of(&c.done.unwrap().1), 5);
  assert_eq!(ring.stats().executed, 0);
  assert_eq!(ring.stats().submitted, 1);

  let mut ring: Ring<Vec<u8>> = Ring::new(Options {
    entries: 16,
    executor: 1,
    ..Options::default()
  })
  .unwrap();
  ring.begin_chain();
  for _ in 0..2 {
    let (op, buf) = statx(&f);
    // SAFETY: as above.
    unsafe { ring.push(op, buf) };
  }
  ring.end_chain().unwrap();
  ring.flush().unwrap();
  let done = drain(&mut ring);
  assert!(done.iter().all(|c| c.result == 0));
  assert_eq!(ring.stats().executed, 0, "a chain's ops are linked in the kernel");
  assert_eq!(ring.stats().submitted, 2);
}

#[test]
fn a_ring_dropped_with_jobs_in_flight_does_not_crash() {
  let d = dir("drop");
  let f = d.join("y");
  std::fs::write(&f, b"1").unwrap();
  for _ in 0..20 {
    let mut ring: Ring<Vec<u8>> = Ring::new(Options {
      entries: 64,
      executor: 1,
      ..Options::default()
    })
    .unwrap();
    for _ in 0..64 {
      let (op, buf) = statx(&f);
      // SAFETY: as above. Dropping the ring leaks what is in flight, so the memory stays valid.
      unsafe { ring.push(op, buf) };
    }
    ring.flush().unwrap();
    drop(ring);
  }
}

/// Pushes writeFile's chain (open `path` into slot 0 → write `data` at 0 → close the slot) and
/// returns its three tokens.
///
/// # Safety
/// `data` stays alive and unchanged until the ops' completions are reaped.
unsafe fn push_write_file(
  ring: &mut Ring<Vec<u8>>,
  path: &std::path::Path,
  flags: i32,
  mode: u32,
  data: &[u8],
) -> [u32; 3] {
  ring.begin_chain();
  let fixed = uring_core::File::Fixed(0);
  // SAFETY: the write's buffer is `data` (the caller's contract); the others hold no memory.
  let tokens = unsafe {
    [
      ring.push(
        Op::OpenAt {
          dirfd: AT_FDCWD,
          path: c(path),
          flags,
          mode,
          slot: Some(0),
        },
        Vec::new(),
      ),
      ring.push(
        Op::Write {
          fd: fixed,
          buf: data.as_ptr(),
          len: data.len() as u32,
          offset: 0,
        },
        Vec::new(),
      ),
      ring.push(Op::Close { fd: fixed }, Vec::new()),
    ]
  };
  ring.end_chain().unwrap();
  tokens
}

fn c(p: &std::path::Path) -> CString {
  CString::new(p.to_str().unwrap()).unwrap()
}

/// The path ops (which io_uring always hands to io-wq) on the executor: each gives the result the
/// kernel's op gives (run on a ring without an executor), failures included.
#[test]
fn path_ops_run_on_the_executor_with_the_kernels_results() {
  let mkdir = |p: std::path::PathBuf| Op::MkdirAt {
    dirfd: AT_FDCWD,
    path: c(&p),
    mode: 0o755,
  };
  let symlink = |t: std::path::PathBuf, l: std::path::PathBuf| Op::SymlinkAt {
    target: c(&t),
    newdirfd: AT_FDCWD,
    linkpath: c(&l),
  };
  let rename = |a: std::path::PathBuf, b: std::path::PathBuf, flags: u32| Op::RenameAt {
    olddirfd: AT_FDCWD,
    oldpath: c(&a),
    newdirfd: AT_FDCWD,
    newpath: c(&b),
    flags,
  };
  let link = |a: std::path::PathBuf, b: std::path::PathBuf| Op::LinkAt {
    olddirfd: AT_FDCWD,
    oldpath: c(&a),
    newdirfd: AT_FDCWD,
    newpath: c(&b),
    flags: 0,
  };
  let unlink = |p: std::path::PathBuf, flags: i32| Op::UnlinkAt {
    dirfd: AT_FDCWD,
    path: c(&p),
    flags,
  };
  let ops = |d: &std::path::Path| {
    vec![
      mkdir(d.join("a")),
      mkdir(d.join("a")),    // EEXIST
      mkdir(d.join("no/b")), // ENOENT
      symlink(d.join("a"), d.join("s")),
      symlink(d.join("a"), d.join("s")), // EEXIST
      rename(d.join("s"), d.join("t"), 0),
      rename(d.join("s"), d.join("t"), 0),                      // ENOENT
      rename(d.join("t"), d.join("a"), libc::RENAME_NOREPLACE), // EEXIST
      link(d.join("t"), d.join("h")),
      unlink(d.join("h"), 0),
      unlink(d.join("h"), 0), // ENOENT
      unlink(d.join("a"), 0), // EISDIR
      unlink(d.join("a"), libc::AT_REMOVEDIR),
    ]
  };
  // One op at a time (each depends on the one before), on each ring.
  let run = |options: Options, d: &std::path::Path| {
    let mut ring: Ring<Vec<u8>> = Ring::new(options).unwrap();
    let mut results = Vec::new();
    for op in ops(d) {
      // SAFETY: the ops own their paths; `keep` is empty.
      unsafe { ring.push(op, Vec::new()) };
      ring.flush().unwrap();
      results.push(drain(&mut ring)[0].result);
    }
    (results, ring.stats().executed)
  };
  let (kernel, none) = run(
    Options {
      entries: 64,
      ..Options::default()
    },
    &dir("paths-kernel"),
  );
  assert_eq!(none, 0);
  for (name, options) in kinds() {
    let (executed, n) = run(
      options,
      &dir(&format!("paths-{}", name.split(' ').next().unwrap())),
    );
    assert_eq!(
      executed, kernel,
      "{name}: the executor's results are the kernel's"
    );
    assert_eq!(n, 13, "{name}: every path op ran on the executor");
  }
  assert!(
    kernel.contains(&-libc::EEXIST) && kernel.contains(&-libc::ENOENT) && kernel.contains(&-libc::EISDIR),
    "{kernel:?}"
  );
}

/// writeFile's chain (open into a file-table slot → write at 0 → close the slot) runs on the
/// executor as one job, with the chain's results for each of its three ops, failures included
/// (an open that fails cancels the rest; a write that fails cancels the close).
#[test]
fn the_write_file_chain_runs_on_the_executor_with_the_kernels_results() {
  let data = vec![7u8; 10_000];
  let cases = |d: &std::path::Path| {
    vec![
      (d.join("new"), libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC),
      (d.join("new"), libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND),
      (d.join("missing/x"), libc::O_WRONLY | libc::O_CREAT), // ENOENT: the rest cancelled
      (d.join("new"), libc::O_RDONLY),                       // the write fails: EBADF
    ]
  };
  let run = |options: Options, d: &std::path::Path| {
    let mut ring: Ring<Vec<u8>> = Ring::new(Options { files: 4, ..options }).unwrap();
    assert!(ring.files() >= 1, "a file table");
    let mut out = Vec::new();
    for (path, flags) in cases(d) {
      // SAFETY: the write's buffer is `data`, alive and unchanged until the drain below.
      let tokens = unsafe { push_write_file(&mut ring, &path, flags, 0o644, &data) };
      ring.flush().unwrap();
      let done = drain(&mut ring);
      let mut results: Vec<i32> = tokens
        .iter()
        .map(|t| done.iter().find(|c| c.token == *t).unwrap().result)
        .collect();
      if results[2] == -libc::ECANCELED && results[0] == 0 {
        // The file stayed open in the slot (the kernel's chain) or was closed (the executor's):
        // the caller closes the slot either way.
        // SAFETY: no memory.
        unsafe {
          ring.push(
            Op::Close {
              fd: uring_core::File::Fixed(0),
            },
            Vec::new(),
          )
        };
        ring.flush().unwrap();
        drain(&mut ring);
      }
      results.push(std::fs::metadata(&path).map_or(-1, |m| m.len() as i32));
      out.push(results);
    }
    (out, ring.stats().executed)
  };
  let (kernel, none) = run(
    Options {
      entries: 64,
      ..Options::default()
    },
    &dir("wf-kernel"),
  );
  assert_eq!(none, 0);
  assert_eq!(kernel[0], vec![0, 10_000, 0, 10_000]);
  assert_eq!(kernel[1], vec![0, 10_000, 0, 20_000]);
  assert_eq!(
    kernel[2][..3],
    [-libc::ENOENT, -libc::ECANCELED, -libc::ECANCELED]
  );
  assert_eq!(kernel[3][..3], [0, -libc::EBADF, -libc::ECANCELED]);
  for (name, options) in kinds() {
    let (executed, n) = run(options, &dir(&format!("wf-{}", name.split(' ').next().unwrap())));
    assert_eq!(executed, kernel, "{name}: the executor's results are the chain's");
    assert_eq!(n, 12, "{name}: every chain ran on the executor");
  }
}

/// A writeFile chain whose three ops all succeed is posted by the executor as one completion,
/// which the reap turns back into the three results the chain's CQEs would have given — also
/// when the reap's room ends in the middle of them (here two completions a call): each token
/// completes once, none is lost or duplicated. Every ring kind with an executor.
#[test]
fn write_file_chains_posted_as_one_complete_each_op_once() {
  let data = vec![3u8; 4096];
  for (name, options) in kinds() {
    let d = dir(&format!("wf-packed-{}", name.split(' ').next().unwrap()));
    let mut ring: Ring<Vec<u8>> = Ring::new(Options { files: 4, ..options }).unwrap();
    let mut want = std::collections::HashMap::new();
    for i in 0..40 {
      let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
      // SAFETY: the write's buffer is `data`, alive and unchanged until every op is reaped below.
      let [o, w, c] = unsafe { push_write_file(&mut ring, &d.join(format!("f{i}")), flags, 0o644, &data) };
      want.extend([(o, 0), (w, 4096), (c, 0)]);
    }
    ring.flush().unwrap();
    let mut got = std::collections::HashMap::new();
    let t0 = std::time::Instant::now();
    while got.len() < want.len() && t0.elapsed() < Duration::from_secs(5) {
      let n = ring.reap(2, |c| {
        assert!(c.done.is_some(), "{name}: a final completion");
        assert!(
          got.insert(c.token, c.result).is_none(),
          "{name}: token {} completed twice",
          c.token
        );
      });
      assert!(n <= 2, "{name}: a reap delivers at most its room");
      if n == 0 {
        ring.flush().unwrap();
        std::thread::sleep(Duration::from_millis(1));
      }
    }
    assert_eq!(got, want, "{name}: every op's own result, once");
    assert_eq!(
      ring.stats().executed,
      120,
      "{name}: the chains ran on the executor"
    );
    for i in 0..40 {
      assert_eq!(
        std::fs::read(d.join(format!("f{i}"))).unwrap(),
        data,
        "{name}: file {i}"
      );
    }
  }
}

/// A job that sleeps (here writeFile's open of a FIFO, which waits for a reader) holds no other:
/// once it has waited a moment at the head of the queue, a spare thread runs the jobs behind it,
/// as io-wq would start a worker. Every ring kind; the blocked job completes once unblocked.
#[test]
fn a_job_that_sleeps_holds_no_others() {
  let d = dir("sleeps");
  let f = d.join("f");
  std::fs::write(&f, b"abc").unwrap();
  let data = b"through the fifo".to_vec();
  for (name, options) in kinds() {
    let fifo = d.join(format!("fifo-{}", name.len()));
    let _ = std::fs::remove_file(&fifo);
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c(&fifo).as_ptr(), 0o600) }, 0);
    let mut ring: Ring<Vec<u8>> = Ring::new(Options { files: 4, ..options }).unwrap();
    // SAFETY: the write's buffer is `data`, alive and unchanged until the drain below.
    let [blocked, _, _] = unsafe { push_write_file(&mut ring, &fifo, libc::O_WRONLY, 0, &data) };
    ring.flush().unwrap();
    let mut statted = 0;
    for _ in 0..40 {
      let (op, buf) = statx(&f);
      // SAFETY: as above.
      unsafe { ring.push(op, buf) };
    }
    ring.flush().unwrap();
    let mut done = Vec::new();
    let t0 = std::time::Instant::now();
    while statted < 40 && t0.elapsed() < Duration::from_secs(5) {
      std::thread::sleep(Duration::from_millis(1));
      ring.ready();
      ring.reap(usize::MAX, |c| done.push(c));
      statted = done
        .iter()
        .filter(|c| c.token != blocked && c.result == 0)
        .count();
    }
    assert_eq!(statted, 40, "{name}: the statx behind the sleeping open ran");
    assert!(
      !done.iter().any(|c| c.token == blocked),
      "{name}: the open still waits"
    );
    // A reader: the open returns, the write and close follow.
    let mut reader = std::fs::File::open(&fifo).unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut got).unwrap();
    assert_eq!(got, data, "{name}");
    let rest = drain(&mut ring);
    let results: Vec<i32> = rest.iter().map(|c| c.result).collect();
    assert_eq!(results.len(), 3, "{name}: {results:?}");
    assert!(results.contains(&(data.len() as i32)), "{name}: {results:?}");
    assert_eq!(ring.stats().executed, 43, "{name}");
  }
}

/// The names `std::fs::read_dir` finds, sorted byte by byte, with each one's d_type as
/// `symlink_metadata` says it (the file systems tests run on report d_type).
fn expected_listing(d: &std::path::Path) -> Vec<(Vec<u8>, u8)> {
  use std::os::unix::ffi::OsStrExt;
  use std::os::unix::fs::FileTypeExt;
  let mut v: Vec<(Vec<u8>, u8)> = std::fs::read_dir(d)
    .unwrap()
    .map(|e| {
      let e = e.unwrap();
      let t = e.file_type().unwrap();
      let ty = if t.is_symlink() {
        libc::DT_LNK
      } else if t.is_dir() {
        libc::DT_DIR
      } else if t.is_fifo() {
        libc::DT_FIFO
      } else {
        libc::DT_REG
      };
      (e.file_name().as_bytes().to_vec(), ty)
    })
    .collect();
  v.sort();
  v
}

/// The ring kinds of `kinds()`, and a ring without an executor (its owner runs the ops no
/// opcode does at the flush).
fn kinds_and_inline() -> Vec<(&'static str, Options)> {
  let inline = Options {
    entries: 64,
    executor: 0,
    ..Options::default()
  };
  let mut k = kinds();
  k.push(("no executor (inline)", inline));
  k
}

/// Pushes `ops` (each owning all its memory), runs them, and returns their completions in the
/// order pushed (one each, checked).
fn run_in_order(ring: &mut Ring<Vec<u8>>, ops: Vec<Op>, name: &str) -> Vec<Completion<Vec<u8>>> {
  let tokens: Vec<u32> = ops
    .into_iter()
    // SAFETY: each op owns its paths (and listing); nothing else is kept.
    .map(|op| unsafe { ring.push(op, Vec::new()) })
    .collect();
  ring.publish().unwrap();
  ring.flush().unwrap();
  let mut done = drain(ring);
  done.sort_by_key(|c| c.token);
  assert_eq!(done.iter().map(|c| c.token).collect::<Vec<_>>(), tokens, "{name}");
  done
}

fn readdir_op(path: &std::path::Path) -> Op {
  Op::Readdir {
    dirfd: AT_FDCWD,
    path: c(path),
    out: uring_core::ListingCell::new(),
  }
}

#[test]
fn readdir_lists_a_directory_sorted_with_types_on_the_executor_or_inline() {
  let d = dir("readdir");
  // More entries than one getdents64 call returns (32 KiB), names of every length up to 255,
  // bytes that are not UTF-8, a directory, a symlink and a FIFO.
  for i in 0..1500usize {
    std::fs::write(d.join(format!("{}{i}", "n".repeat(i % 200))), b"").unwrap();
  }
  std::fs::write(d.join("x".repeat(255)), b"").unwrap();
  use std::os::unix::ffi::OsStrExt;
  std::fs::write(d.join(std::ffi::OsStr::from_bytes(b"\xff\xfe-not-utf8")), b"").unwrap();
  std::fs::create_dir_all(d.join("sub")).unwrap();
  let _ = std::os::unix::fs::symlink("sub", d.join("link"));
  let fifo = c(&d.join("fifo"));
  // SAFETY: a NUL-terminated path.
  unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) };
  let want = expected_listing(&d);
  assert_eq!(want.len(), 1500 + 5);
  for (name, options) in kinds_and_inline() {
    let mut ring: Ring<Vec<u8>> = Ring::new(options).unwrap();
    assert_eq!(
      ring.supported_ops().contains(&"readdir"),
      options.executor > 0,
      "{name}: readdir is reported only with an executor"
    );
    let file = d.join("0");
    let ops = [d.clone(), d.join("missing"), file]
      .iter()
      .map(|p| readdir_op(p))
      .collect();
    let mut done = run_in_order(&mut ring, ops, name);
    assert_eq!(done[0].result, want.len() as i32, "{name}");
    assert_eq!(done[1].result, -libc::ENOENT, "{name}");
    assert_eq!(done[2].result, -libc::ENOTDIR, "{name}");
    let Some((Op::Readdir { mut out, .. }, _)) = done.remove(0).done else {
      panic!("{name}: the readdir op comes back")
    };
    let l = out.take();
    let got: Vec<(Vec<u8>, u8)> = (0..l.entries.len())
      .map(|i| (l.name(i).to_vec(), l.entries[i].2))
      .collect();
    assert_eq!(got, want, "{name}");
    let s = ring.stats();
    assert_eq!(
      s.executed,
      if options.executor > 0 { 3 } else { 0 },
      "{name}: {s:?}"
    );
    assert_eq!(s.submitted, 0, "{name}: no SQE: {s:?}");
  }
}

#[test]
fn access_and_chmod_run_on_the_executor_or_inline_with_the_syscalls_results() {
  use std::os::unix::fs::PermissionsExt;
  let d = dir("access");
  let f = d.join("f");
  std::fs::write(&f, b"x").unwrap();
  for (name, options) in kinds_and_inline() {
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut ring: Ring<Vec<u8>> = Ring::new(options).unwrap();
    for op in ["access", "chmod"] {
      assert_eq!(
        ring.supported_ops().contains(&op),
        options.executor > 0,
        "{name}: {op}"
      );
    }
    let ops = [
      Op::Access {
        dirfd: AT_FDCWD,
        path: c(&f),
        mode: libc::F_OK,
      },
      Op::Access {
        dirfd: AT_FDCWD,
        path: c(&d.join("missing")),
        mode: libc::R_OK,
      },
      Op::Access {
        dirfd: AT_FDCWD,
        path: c(&f),
        mode: 0x40,
      },
      Op::Chmod {
        dirfd: AT_FDCWD,
        path: c(&f),
        mode: 0o640,
      },
      Op::Chmod {
        dirfd: AT_FDCWD,
        path: c(&d.join("missing")),
        mode: 0o640,
      },
    ];
    let done = run_in_order(&mut ring, ops.into(), name);
    let results: Vec<i32> = done.iter().map(|c| c.result).collect();
    assert_eq!(
      results,
      [0, -libc::ENOENT, -libc::EINVAL, 0, -libc::ENOENT],
      "{name}"
    );
    assert_eq!(
      std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
      0o640,
      "{name}"
    );
    assert_eq!(ring.stats().submitted, 0, "{name}: no SQE");
  }
}
