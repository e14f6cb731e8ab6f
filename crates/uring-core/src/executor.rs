//! The executor: threads of the ring's own that run the ops io_uring would only hand to an io-wq
//! worker anyway (STATX and the path ops — unlinkat, renameat, mkdirat, symlinkat, linkat — always
//! go there), with plain syscalls, and post each result into the
//! ring's CQ with `IORING_OP_MSG_RING`, so the owner reaps it like any completion.
//!
//! Why: an io-wq hop costs more than the syscall it makes. On this machine kind, STATX through
//! io_uring with 16 in flight ran 549k/s where plain `statx` on two threads ran 916k/s
//! (the kernel floor in benchmarks/RESULTS.md, 2026-12-03). The ring hands its jobs over once per
//! flush or per BATCH (one lock, at most one wake-up), and each thread posts the results of what
//! it ran in one `io_uring_enter` of its own small ring.
//!
//! Ownership is unchanged: a job carries raw pointers into memory its ops' slots own (paths, a
//! statx buffer, a write's copy of the data), and the ring counts those ops as in the kernel.
//! A slot is released only when its op's CQE is reaped, and that CQE is the one this thread
//! posts after its last access to the job's memory. A ring dropped with jobs still
//! here leaks their slots (as for any op in the kernel), so a thread still running one touches
//! memory that stays allocated.
//!
//! The threads follow the process's credentials (glibc applies setuid and the like to every
//! thread), as the owner's own syscalls do.

use std::collections::VecDeque;
use std::ffi::c_char;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};

use crate::op::{File, Op};

/// Jobs one thread takes at a time (and posts in one `io_uring_enter`).
pub(crate) const BATCH: usize = 32;
/// Results one batch can post (a writeFile job stands for three ops): the size of a thread's own ring.
const POSTS: usize = 3 * BATCH;

/// What a job does: the syscall and its arguments, copied from the op (paths as pointers to the
/// op's own NUL-terminated strings, which live on the heap and do not move with the op).
#[derive(Clone, Copy)]
pub(crate) enum Work {
  Statx {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
    mask: u32,
    buf: *mut u8,
  },
  Unlinkat {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
  },
  Renameat {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: u32,
  },
  Mkdirat {
    dirfd: i32,
    path: *const c_char,
    mode: u32,
  },
  Symlinkat {
    target: *const c_char,
    newdirfd: i32,
    linkpath: *const c_char,
  },
  Linkat {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: i32,
  },
  /// writeFile's chain (open into a file-table slot → write at 0 → close the slot), run as
  /// open(2) → write(2) until all is written → close(2), with a plain fd: an open that creates
  /// or truncates is always handed to io-wq. Its three results go to the three ops' tokens (the
  /// open's own is the job's), as the chain's CQEs would: the open's 0 or -errno; the bytes
  /// written or -errno; the close's result, or -ECANCELED where the chain would not have
  /// reached it (the library's caller then closes the slot, which is empty: harmless).
  WriteFile {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
    mode: u32,
    buf: *const u8,
    len: u32,
    write: u32,
    close: u32,
  },
}

impl Work {
  /// The work of `op`, for the ops the executor runs (`None` for the others): STATX and the path
  /// ops, which io_uring always hands to an io-wq worker.
  pub(crate) fn of(op: &Op) -> Option<Work> {
    Some(match op {
      Op::Statx {
        dirfd,
        path,
        flags,
        mask,
        buf,
      } => Work::Statx {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
        mask: *mask,
        buf: *buf,
      },
      Op::UnlinkAt { dirfd, path, flags } => Work::Unlinkat {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
      },
      Op::RenameAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => Work::Renameat {
        olddirfd: *olddirfd,
        oldpath: oldpath.as_ptr(),
        newdirfd: *newdirfd,
        newpath: newpath.as_ptr(),
        flags: *flags,
      },
      Op::MkdirAt { dirfd, path, mode } => Work::Mkdirat {
        dirfd: *dirfd,
        path: path.as_ptr(),
        mode: *mode,
      },
      Op::SymlinkAt {
        target,
        newdirfd,
        linkpath,
      } => Work::Symlinkat {
        target: target.as_ptr(),
        newdirfd: *newdirfd,
        linkpath: linkpath.as_ptr(),
      },
      Op::LinkAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => Work::Linkat {
        olddirfd: *olddirfd,
        oldpath: oldpath.as_ptr(),
        newdirfd: *newdirfd,
        newpath: newpath.as_ptr(),
        flags: *flags,
      },
      _ => return None,
    })
  }

  /// The work of a chain of ops (`tokens` in order, soft-linked: the caller checks), for the one
  /// chain the executor runs: writeFile's open → write → close of one file-table slot.
  pub(crate) fn of_chain(ops: [&Op; 3], tokens: [u32; 3]) -> Option<Work> {
    match (ops[0], ops[1], ops[2]) {
      (
        Op::OpenAt {
          dirfd,
          path,
          flags,
          mode,
          slot: Some(s),
        },
        Op::Write {
          fd: File::Fixed(ws),
          buf,
          len,
          offset: 0,
        },
        Op::Close { fd: File::Fixed(cs) },
      ) if ws == s && cs == s => Some(Work::WriteFile {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
        mode: *mode,
        buf: *buf,
        len: *len,
        write: tokens[1],
        close: tokens[2],
      }),
      _ => None,
    }
  }

  /// Runs the work, pushing `(token, result)` for each op it stands for (`token`: the first's).
  ///
  /// # Safety
  /// The pointers are valid as [`Job`] says.
  unsafe fn run_into(self, token: u32, results: &mut Vec<(u32, i32)>) {
    let Work::WriteFile {
      dirfd,
      path,
      flags,
      mode,
      buf,
      len,
      write,
      close,
    } = self
    else {
      // SAFETY: forwarded.
      results.push((token, unsafe { self.run() }));
      return;
    };
    // SAFETY: `path` is the open op's NUL-terminated string and `buf..buf + len` the write op's
    // own copy of the data, both kept alive by their slots until the CQEs posted for them.
    unsafe {
      let fd = libc::openat(dirfd, path, flags | libc::O_CLOEXEC, mode as libc::c_uint);
      if fd < 0 {
        results.extend([
          (token, errno()),
          (write, -libc::ECANCELED),
          (close, -libc::ECANCELED),
        ]);
        return;
      }
      results.push((token, 0));
      let mut done = 0usize;
      while done < len as usize {
        let n = libc::write(fd, buf.add(done).cast(), len as usize - done);
        if n <= 0 {
          let e = if n == 0 { -libc::EIO } else { errno() };
          libc::close(fd);
          results.extend([(write, e), (close, -libc::ECANCELED)]);
          return;
        }
        done += n as usize;
      }
      results.push((write, done as i32));
      let r = if libc::close(fd) == 0 { 0 } else { errno() };
      results.push((close, r));
    }
  }

  /// Runs the syscall: its result as a CQE would carry it (`-errno` on failure).
  ///
  /// # Safety
  /// The pointers are valid as [`Job`] says.
  unsafe fn run(self) -> i32 {
    // SAFETY (every call): the paths are NUL-terminated strings and `buf` points at a writable
    // statx buffer, all kept alive by the op's slot until its CQE is reaped (the module's
    // invariant); the flags are passed to the kernel as the SQE would have.
    let r = unsafe {
      match self {
        Work::Statx {
          dirfd,
          path,
          flags,
          mask,
          buf,
        } => libc::statx(dirfd, path, flags, mask, buf.cast()) as libc::c_long,
        Work::Unlinkat { dirfd, path, flags } => libc::unlinkat(dirfd, path, flags) as libc::c_long,
        // renameat2 as a raw syscall: libc wrappers for it are not in every C library we build for.
        Work::Renameat {
          olddirfd,
          oldpath,
          newdirfd,
          newpath,
          flags,
        } => libc::syscall(libc::SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags),
        Work::Mkdirat { dirfd, path, mode } => {
          libc::mkdirat(dirfd, path, mode as libc::mode_t) as libc::c_long
        }
        Work::Symlinkat {
          target,
          newdirfd,
          linkpath,
        } => libc::symlinkat(target, newdirfd, linkpath) as libc::c_long,
        Work::Linkat {
          olddirfd,
          oldpath,
          newdirfd,
          newpath,
          flags,
        } => libc::linkat(olddirfd, oldpath, newdirfd, newpath, flags) as libc::c_long,
        Work::WriteFile { .. } => unreachable!("run_into runs writeFile"),
      }
    };
    if r == 0 {
      0
    } else {
      errno()
    }
  }
}

/// The calling thread's last error as a CQE carries it: `-errno`.
fn errno() -> i32 {
  -io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// An op's token and its work.
pub(crate) struct Job {
  pub(crate) token: u32,
  pub(crate) work: Work,
}

impl Job {
  /// The tokens of the ops the job stands for, first to last (a writeFile chain's three).
  pub(crate) fn tokens(&self) -> impl DoubleEndedIterator<Item = u32> {
    let rest = match self.work {
      Work::WriteFile { write, close, .. } => [Some(write), Some(close)],
      _ => [None, None],
    };
    std::iter::once(self.token).chain(rest.into_iter().flatten())
  }
}

// SAFETY: a job's pointers point at memory owned by its op's slot, which no other thread touches
// while the op is counted in the kernel: the owner reads it only after reaping the op's CQE, which
// the executor posts after its last access.
unsafe impl Send for Job {}

struct Shared {
  queue: Mutex<Queue>,
  wake: Condvar,
  stop: AtomicBool,
  /// Jobs handed over whose results are not posted yet.
  outstanding: AtomicUsize,
  /// The target ring's fd (a duplicate: the file stays open for the threads).
  ring: OwnedFd,
}

struct Queue {
  jobs: VecDeque<Job>,
  /// Threads waiting on `wake`.
  sleeping: usize,
}

pub(crate) struct Executor {
  shared: Arc<Shared>,
  threads: Vec<JoinHandle<()>>,
  /// How many threads to start (lazily, on the first job).
  want: usize,
}

impl Executor {
  /// An executor for the ring whose fd is `ring`, with up to `threads` threads (started on
  /// first use).
  pub(crate) fn new(ring: BorrowedFd<'_>, threads: usize) -> io::Result<Executor> {
    Ok(Executor {
      shared: Arc::new(Shared {
        queue: Mutex::new(Queue {
          jobs: VecDeque::new(),
          sleeping: 0,
        }),
        wake: Condvar::new(),
        stop: AtomicBool::new(false),
        outstanding: AtomicUsize::new(0),
        ring: ring.try_clone_to_owned()?,
      }),
      threads: Vec::new(),
      want: threads,
    })
  }

  /// Hands `jobs` to the threads. Err only if no thread could be started: the jobs are then
  /// handed back, for the caller to submit otherwise.
  pub(crate) fn run(&mut self, jobs: Vec<Job>) -> Result<(), Vec<Job>> {
    if self.threads.len() < self.want {
      self.spawn();
      if self.threads.is_empty() {
        return Err(jobs);
      }
    }
    let n = jobs.len();
    self.shared.outstanding.fetch_add(n, Ordering::Relaxed);
    let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    q.jobs.extend(jobs);
    let sleeping = q.sleeping;
    drop(q);
    // One thread per BATCH of jobs, only those asleep: the awake ones take more after each batch.
    for _ in 0..sleeping.min(n.div_ceil(BATCH)) {
      self.shared.wake.notify_one();
    }
    Ok(())
  }

  /// Whether some job's result is still to be posted (so its CQE is coming soon).
  pub(crate) fn busy(&self) -> bool {
    self.shared.outstanding.load(Ordering::Relaxed) > 0
  }

  fn spawn(&mut self) {
    while self.threads.len() < self.want {
      let shared = self.shared.clone();
      // Its own small ring, only to post results (one MSG_RING SQE per result), made here so that a
      // thread that could not have one is never counted.
      let made = IoUring::builder().build(POSTS as u32).and_then(|own| {
        std::thread::Builder::new()
          .name("uring-exec".into())
          .stack_size(64 * 1024)
          .spawn(move || work(own, &shared))
      });
      match made {
        Ok(t) => self.threads.push(t),
        Err(_) => {
          self.want = self.threads.len();
          return;
        }
      }
    }
  }

  /// Stops the threads once their current batch is posted; waits for them only when `join`
  /// (nothing in flight: else a thread could be waiting for room in a CQ nobody reaps any more).
  pub(crate) fn stop(mut self, join: bool) {
    self.shared.stop.store(true, Ordering::SeqCst);
    {
      let _q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
      self.shared.wake.notify_all();
    }
    for t in self.threads.drain(..) {
      if join {
        let _ = t.join();
      }
    }
  }
}

/// A thread: takes up to BATCH jobs, runs them, posts their results, until stopped.
fn work(mut own: IoUring, shared: &Shared) {
  let target = shared.ring.as_raw_fd();
  let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
  let mut results: Vec<(u32, i32)> = Vec::with_capacity(POSTS);
  loop {
    {
      let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
      while q.jobs.is_empty() {
        if shared.stop.load(Ordering::SeqCst) {
          return;
        }
        q.sleeping += 1;
        q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        q.sleeping -= 1;
      }
      let n = q.jobs.len().min(BATCH);
      batch.extend(q.jobs.drain(..n));
    }
    let n = batch.len();
    for job in batch.drain(..) {
      // SAFETY: the job's memory is kept by its slots until the CQEs posted below are reaped.
      unsafe { job.work.run_into(job.token, &mut results) };
    }
    if !post(&mut own, target, &mut results, &shared.stop) {
      return;
    }
    shared.outstanding.fetch_sub(n, Ordering::Relaxed);
  }
}

/// Posts `results` into the target ring's CQ, each as a CQE with the op's token and result.
/// A post the kernel refuses (the target's CQ full) is retried after a short sleep. Returns
/// false when it gave up because the ring is being dropped.
fn post(own: &mut IoUring, target: i32, results: &mut Vec<(u32, i32)>, stop: &AtomicBool) -> bool {
  while !results.is_empty() {
    {
      let mut sq = own.submission();
      for (i, &(token, result)) in results.iter().enumerate() {
        let e = opcode::MsgRingData::new(types::Fd(target), result, token as u64, None)
          .build()
          .user_data(i as u64)
          .flags(squeue::Flags::SKIP_SUCCESS);
        // SAFETY: a MSG_RING data SQE points at no memory.
        unsafe { sq.push(&e).expect("own SQ holds POSTS") };
      }
    }
    // MSG_RING runs inline: once the kernel consumed the SQEs, every post is done, or failed
    // with a CQE here. A refused enter (EAGAIN, EINTR) leaves them in the SQ: again.
    loop {
      let _ = own.submit();
      if own.submission().is_empty() {
        break;
      }
      if stop.load(Ordering::SeqCst) {
        return false;
      }
      std::thread::sleep(Duration::from_micros(50));
    }
    let failed: Vec<(u32, i32)> = own
      .completion()
      .filter(|c| c.result() < 0)
      .filter_map(|c| results.get(c.user_data() as usize).copied())
      .collect();
    *results = failed;
    if results.is_empty() {
      return true;
    }
    if stop.load(Ordering::SeqCst) {
      return false;
    }
    std::thread::sleep(Duration::from_micros(50));
  }
  true
}
