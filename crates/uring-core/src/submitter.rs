//! The submitter thread of a [`Mode::Submitter`](crate::Mode::Submitter) ring: a user-space
//! stand-in for SQPOLL that sleeps 50 us after the SQ empties instead of SQPOLL's milliseconds.
//!
//! Why: on a ring without SQPOLL, a page-cache read is done (and its 4 KiB copied) inside the
//! `io_uring_enter` that submits it, so the thread that submits pays for it. Here the owner (the
//! JS thread) only writes SQEs and publishes the SQ tail; this thread makes the `io_uring_enter`
//! calls, so the reads run on another core while the owner goes on settling completions. The
//! owner still reaps every CQE itself. Reads that miss the page cache take the kernel's async
//! buffered-read path as on any ring: this thread never blocks on them.
//!
//! The thread touches no ring memory and no op memory: it only makes syscalls on its own
//! duplicate of the ring fd, so it cannot outlive what it uses.
//!
//! Sleeping and waking, without a lost wake-up: after a short spin watching `published`, the
//! thread stores `idle = true`, then submits once more, and only if that finds nothing sleeps on
//! the eventfd `kick`. The owner stores the SQ tail, then reads `idle`; both sides put a SeqCst
//! fence between their store and their load, so at least one of them sees the other's store:
//! either the thread's last submit sees the new tail, or the owner sees `idle` and kicks.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the thread watches for new SQEs, without syscalls, before it goes to sleep.
const SPIN: Duration = Duration::from_micros(50);

struct Shared {
  idle: AtomicBool,
  stop: AtomicBool,
  /// `io_uring_enter` calls made by the thread.
  enters: AtomicU64,
  /// The thread is inside an `io_uring_enter`: completions of what it submits (page-cache reads
  /// complete inside the call) are about to be posted.
  entering: AtomicBool,
  /// SQEs the owner has published so far: the thread watches it while it spins, with no syscall.
  published: AtomicU64,
  /// An eventfd the thread sleeps on (blocking reads).
  kick: OwnedFd,
}

pub(crate) struct Submitter {
  shared: Arc<Shared>,
  thread: Option<JoinHandle<()>>,
}

impl Submitter {
  /// Starts the thread for the ring whose fd is `ring`.
  pub(crate) fn start(ring: BorrowedFd<'_>) -> io::Result<Submitter> {
    // Blocking: the thread sleeps in `read` on it.
    let kick = crate::sys::eventfd(0)?;
    let shared = Arc::new(Shared {
      idle: AtomicBool::new(true),
      stop: AtomicBool::new(false),
      enters: AtomicU64::new(0),
      entering: AtomicBool::new(false),
      published: AtomicU64::new(0),
      kick,
    });
    let ring = ring.try_clone_to_owned()?;
    let theirs = shared.clone();
    let thread = std::thread::Builder::new()
      .name("uring-submit".into())
      .stack_size(64 * 1024)
      .spawn(move || run(ring, &theirs))?;
    Ok(Submitter {
      shared,
      thread: Some(thread),
    })
  }

  /// Called by the owner after it stored the SQ tail for `n` more SQEs.
  pub(crate) fn published(&self, n: u32) {
    self.shared.published.fetch_add(n as u64, Ordering::Release);
  }

  /// Called by the owner after publishing SQEs: whether the thread is (or is about to be) asleep
  /// and so will not see them unless woken or submitted by the owner.
  pub(crate) fn idle(&self) -> bool {
    // Orders the owner's SQ tail store before this load (see the module docs).
    fence(Ordering::SeqCst);
    self.shared.idle.load(Ordering::SeqCst)
  }

  /// Wakes the thread if it is idle; returns whether a wake-up was sent (one `write`).
  pub(crate) fn wake(&self) -> bool {
    // Read first: while the thread is awake (most calls under load) nothing is written, so the
    // owner does not take the flag's cache line away from the thread on every op.
    if !self.idle() || !self.shared.idle.swap(false, Ordering::SeqCst) {
      return false;
    }
    kick(&self.shared.kick);
    true
  }

  /// Tells the thread to exit, waking it if it sleeps.
  fn signal_stop(&self) {
    self.shared.stop.store(true, Ordering::SeqCst);
    kick(&self.shared.kick);
  }

  /// Whether completions of this thread's work may come any moment: it is inside an
  /// `io_uring_enter`, or awake (it submits what the SQ holds within its spin).
  pub(crate) fn working(&self, sq_empty: bool) -> bool {
    self.shared.entering.load(Ordering::Acquire) || (!sq_empty && !self.shared.idle.load(Ordering::Acquire))
  }

  pub(crate) fn enter_calls(&self) -> u64 {
    self.shared.enters.load(Ordering::Relaxed)
  }

  /// Stops the thread. With `join`, waits for it to exit: quick when the ring has nothing in
  /// flight, but a thread's exit waits for the ops it submitted (the kernel cancels them), so
  /// with ops still in flight the thread is left to finish on its own instead.
  pub(crate) fn stop(mut self, join: bool) {
    self.signal_stop();
    if let Some(t) = self.thread.take() {
      if join {
        let _ = t.join();
      }
    }
  }
}

fn kick(fd: &OwnedFd) {
  let one = 1u64;
  // SAFETY: writes 8 bytes from a live u64 to an eventfd we own.
  unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// The thread's loop: submit while there is something to submit, then sleep until kicked.
fn run(ring: OwnedFd, shared: &Shared) {
  // Signals are for the process's own threads: block them all here.
  // SAFETY: `set` is a live sigset_t, filled before use; a null old-set pointer is allowed.
  unsafe {
    let mut set = std::mem::zeroed::<libc::sigset_t>();
    libc::sigfillset(&mut set);
    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
  }
  let submit = || {
    shared.enters.fetch_add(1, Ordering::Relaxed);
    shared.entering.store(true, Ordering::Release);
    // SAFETY: io_uring_enter with no argument pointer on a ring fd we own (a duplicate, so the
    // ring's file stays open while this thread may use it). The kernel submits at most what the
    // SQ holds. Errors (EBUSY/EAGAIN under CQ pressure, EINTR) count as "nothing submitted": the
    // owner submits itself when it finds this thread idle with SQEs pending.
    let n = unsafe {
      libc::syscall(
        libc::SYS_io_uring_enter,
        ring.as_raw_fd(),
        u32::MAX,
        0u32,
        0u32,
        0usize,
        0usize,
      )
    };
    shared.entering.store(false, Ordering::Release);
    n > 0
  };
  loop {
    if shared.stop.load(Ordering::SeqCst) {
      return;
    }
    let seen = shared.published.load(Ordering::Acquire);
    if submit() {
      continue;
    }
    // Nothing left: watch for the owner's next SQEs for a moment before sleeping. Without this,
    // at small queue depths the thread slept after every batch and each batch paid two
    // cross-thread wake-ups (qd8: 0.27-0.29M reads/s against 0.56-0.60M submitting inline).
    let t0 = Instant::now();
    let mut i = 0u32;
    while shared.published.load(Ordering::Acquire) == seen {
      std::hint::spin_loop();
      i = i.wrapping_add(1);
      if i.is_multiple_of(64) && t0.elapsed() >= SPIN {
        break;
      }
    }
    if shared.published.load(Ordering::Acquire) != seen {
      continue;
    }
    shared.idle.store(true, Ordering::SeqCst);
    // Orders the store of `idle` before the kernel's load of the SQ tail in the next submit.
    fence(Ordering::SeqCst);
    if submit() {
      shared.idle.store(false, Ordering::SeqCst);
      continue;
    }
    if shared.stop.load(Ordering::SeqCst) {
      return;
    }
    let mut v = 0u64;
    // SAFETY: reads 8 bytes into a live u64 from an eventfd we own; blocks until kicked. EINTR
    // (task work for this thread's ops runs on the way out) just loops.
    unsafe { libc::read(shared.kick.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
  }
}

impl Drop for Submitter {
  /// Never blocks: a submitter not stopped by [`stop`](Submitter::stop) is told to stop and left.
  fn drop(&mut self) {
    if self.thread.is_some() {
      self.signal_stop();
    }
  }
}
