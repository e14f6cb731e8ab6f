//! The executor: threads of the ring's own that run the ops io_uring would only hand to an io-wq
//! worker anyway (STATX and the path ops — unlinkat, renameat, mkdirat, symlinkat, linkat — always
//! go there) and the ops no opcode does (readdir, access, chmod: `EXECUTOR_ONLY`), with plain
//! syscalls, and post each result into the ring's CQ with `IORING_OP_MSG_RING`, so the owner
//! reaps it like any completion.
//!
//! Why: an io-wq hop costs more than the syscall it makes. On this machine kind, STATX through
//! io_uring with 16 in flight ran 549k/s where plain `statx` on two threads ran 916k/s
//! (the kernel floor in benchmarks/RESULTS.md, 2026-12-03). The ring hands its jobs over once per
//! flush or per BATCH (one lock, at most one wake-up); a thread takes one job at a time and
//! posts the results gathered (any thread's) in one `io_uring_enter` of its own small ring once
//! nothing is queued or POST_AT are waiting. A writeFile chain whose three ops all succeeded is
//! one post (`job::WRITE_FILE_DONE`), which the reap unpacks into the three results: install-like
//! writeFiles on tmpfs +3% (5 alternated pairs, all the same way).
//!
//! A job that sleeps (a statx of an inode not cached, on a slow disk) would hold every job
//! behind it, where io-wq starts a worker per blocked request. So a *spare* thread watches the
//! queue, a TICK at a time while anything is outstanding: when the same job is still at the head
//! a TICK later, it posts what is gathered and runs jobs itself, and another spare (idle, or
//! started, up to SPARES) takes over the watch. Spares idle for IDLE end. Measured on a
//! filesystem whose every lookup sleeps 5 ms (benchmarks/slow-stat.mjs, RESULTS.md 2026-12-03,
//! second entry): 90 files/s with one thread alone, 1,400 with spares, io-wq 880; cached stat
//! the same as without (within this machine's noise).
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
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};

use crate::job::{ops_posted, Job};
use crate::sys::high_fd;

/// Results posted in one `io_uring_enter`, at most (and the jobs one wake-up stands for).
pub(crate) const BATCH: usize = 32;
/// Results gathered from which a thread posts them without waiting for the queue to empty: the
/// owner starts on them while the thread runs the rest (16 rather than BATCH: stat of 10k files
/// +6%, a walk +3%, 4 A/B pairs; 8 cost more posts than it gained).
const POST_AT: usize = 16;
/// Results one batch can post (a writeFile job stands for three ops): the size of a thread's own ring.
const POSTS: usize = 3 * BATCH;

struct Shared {
  queue: Mutex<Queue>,
  /// The executor's own threads wait here for jobs.
  wake: Condvar,
  /// The spare that watches the queue waits here, a TICK at a time.
  watch: Condvar,
  /// The other spares wait here, until needed or IDLE.
  idle: Condvar,
  stop: AtomicBool,
  /// Results not posted yet, of jobs handed over (a writeFile job's three count three).
  outstanding: AtomicUsize,
  /// The target ring's fd (a duplicate: the file stays open for the threads).
  ring: OwnedFd,
  /// The spares started, to join at the end.
  spares: Mutex<Vec<JoinHandle<()>>>,
}

struct Queue {
  jobs: VecDeque<Job>,
  /// Results of jobs run, not posted yet (any thread's: whoever finds the queue empty, or
  /// POST_AT of them, posts them all in one `io_uring_enter`).
  results: Vec<(u32, i32)>,
  /// Executor threads waiting on `wake`.
  sleeping: usize,
  /// A spare is watching (on `watch`).
  watching: bool,
  /// The watcher waits without a TICK (nothing was outstanding for a while): notify it.
  watch_asleep: bool,
  /// Spares waiting on `idle`.
  idle: usize,
  /// Spares alive.
  spares: usize,
}

/// How long the job at the head of the queue may wait before a spare thread runs it: a job that
/// sleeps (a statx of a file whose inode is not cached, on a slow disk) would hold every job
/// behind it, where io-wq would start a worker for it.
const TICK: Duration = Duration::from_millis(1);
/// Spare threads at most, besides the executor's own: each runs one blocked job.
const SPARES: usize = 16;
/// A spare with nothing to do for this long ends (the watcher stays).
const IDLE: Duration = Duration::from_secs(1);
/// Ticks with nothing outstanding after which the watcher stops ticking (is notified instead).
const QUIET_TICKS: u32 = 100;

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
          results: Vec::with_capacity(POSTS),
          sleeping: 0,
          watching: false,
          watch_asleep: false,
          idle: 0,
          spares: 0,
        }),
        wake: Condvar::new(),
        watch: Condvar::new(),
        idle: Condvar::new(),
        stop: AtomicBool::new(false),
        outstanding: AtomicUsize::new(0),
        ring: high_fd(ring)?,
        spares: Mutex::new(Vec::new()),
      }),
      threads: Vec::new(),
      want: threads,
    })
  }

  /// Hands the jobs in `jobs` to the threads, leaving it empty (its memory kept for the next
  /// batch). False only if no thread could be started: the jobs are then left in `jobs`, for the
  /// caller to submit otherwise.
  pub(crate) fn run(&mut self, jobs: &mut Vec<Job>) -> bool {
    if self.threads.len() < self.want {
      self.spawn();
      if self.threads.is_empty() {
        return false;
      }
    }
    let n = jobs.len();
    let posts: usize = jobs.iter().map(|j| j.tokens().count()).sum();
    self.shared.outstanding.fetch_add(posts, Ordering::Relaxed);
    let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    q.jobs.extend(jobs.drain(..));
    let sleeping = q.sleeping;
    if q.watch_asleep {
      q.watch_asleep = false;
      self.shared.watch.notify_one();
    }
    drop(q);
    // One thread per BATCH of jobs, only those asleep: the awake ones take more as they go.
    for _ in 0..sleeping.min(n.div_ceil(BATCH)) {
      self.shared.wake.notify_one();
    }
    true
  }

  /// Whether some job's result is still to be posted (so its CQE is coming soon).
  pub(crate) fn busy(&self) -> bool {
    self.shared.outstanding.load(Ordering::Relaxed) > 0
  }

  fn spawn(&mut self) {
    while self.threads.len() < self.want {
      match start(&self.shared, false) {
        Ok(t) => self.threads.push(t),
        Err(_) => {
          self.want = self.threads.len();
          return;
        }
      }
    }
    // The watcher, which runs a job that waited a TICK at the head of the queue. Without it
    // the executor still runs every job, only one blocked job holds the rest.
    let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    if q.spares == 0 {
      add_spare(&self.shared, &mut q);
    }
  }

  /// Stops the threads once their current batch is posted; waits for them only when `join`
  /// (nothing in flight: else a thread could be waiting for room in a CQ nobody reaps any more,
  /// or in a syscall that never returns).
  pub(crate) fn stop(mut self, join: bool) {
    self.shared.stop.store(true, Ordering::SeqCst);
    {
      let _q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
      self.shared.wake.notify_all();
      self.shared.watch.notify_all();
      self.shared.idle.notify_all();
    }
    let spares = std::mem::take(&mut *self.shared.spares.lock().unwrap_or_else(|e| e.into_inner()));
    for t in self.threads.drain(..).chain(spares) {
      if join {
        let _ = t.join();
      }
    }
  }
}

/// Starts a thread (an executor's own, or a spare), with its own small ring to post results (one
/// MSG_RING SQE per result), made first so that a thread that could not have one never runs.
fn start(shared: &Arc<Shared>, spare: bool) -> io::Result<JoinHandle<()>> {
  let own = own_ring()?;
  let shared = shared.clone();
  std::thread::Builder::new()
    .name(if spare { "uring-spare" } else { "uring-exec" }.into())
    .stack_size(64 * 1024)
    .spawn(move || work(own, &shared, spare))
}

/// Starts a spare, counted in `q` (whose lock the caller holds) and kept to be joined.
fn add_spare(shared: &Arc<Shared>, q: &mut Queue) {
  if let Ok(t) = start(shared, true) {
    q.spares += 1;
    shared.spares.lock().unwrap_or_else(|e| e.into_inner()).push(t);
  }
}

/// A thread's own small ring, to post results with (one MSG_RING SQE each), its fd high (see
/// `sys::high_fd`).
fn own_ring() -> io::Result<IoUring> {
  let made: IoUring = IoUring::builder().build(POSTS as u32)?;
  let params = made.params().clone();
  // SAFETY: the ring's fd is open for this call (`made` is alive).
  let fd = high_fd(unsafe { BorrowedFd::borrow_raw(made.as_raw_fd()) })?;
  drop(made);
  // SAFETY: `fd` refers to the ring just set up with `params` (the duplicate keeps it alive
  // after `made` closed its own fd), and is ours alone.
  unsafe { IoUring::from_fd(fd.into_raw_fd(), params) }
}

/// A thread: takes one job at a time (so that a job that sleeps holds no others: a spare takes
/// them), runs it, and posts the results once nothing is queued or POST_AT are waiting; a spare
/// waits first until it is needed. Until stopped, or (a spare) idle.
fn work(mut own: IoUring, shared: &Arc<Shared>, spare: bool) {
  let target = shared.ring.as_raw_fd();
  let mut mine: Vec<(u32, i32)> = Vec::with_capacity(3);
  let mut out: Vec<(u32, i32)> = Vec::with_capacity(POSTS);
  let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
  // A spare that takes over from a blocked thread posts what that thread left first.
  let mut post_now = false;
  if spare {
    match wait_needed(q, shared) {
      Some(g) => q = g,
      None => return,
    }
    post_now = true;
  }
  loop {
    q.results.append(&mut mine);
    if !q.results.is_empty() && (post_now || q.jobs.is_empty() || q.results.len() >= POST_AT) {
      post_now = false;
      std::mem::swap(&mut out, &mut q.results);
      drop(q);
      let n = ops_posted(&out);
      if !post(&mut own, target, &mut out, &shared.stop) {
        return;
      }
      shared.outstanding.fetch_sub(n, Ordering::Relaxed);
      q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
      continue;
    }
    if let Some(job) = q.jobs.pop_front() {
      drop(q);
      // SAFETY: the job's memory is kept by its slots until the CQEs posted for it are reaped.
      unsafe { job.work.run_into(job.token, &mut mine) };
      post_now = job.work.posted_at_once();
      q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
      continue;
    }
    if shared.stop.load(Ordering::SeqCst) {
      return;
    }
    if spare {
      match wait_needed(q, shared) {
        Some(g) => q = g,
        None => return,
      }
      post_now = true;
    } else {
      q.sleeping += 1;
      q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
      q.sleeping -= 1;
    }
  }
}

/// A spare's wait, until a job has waited a TICK at the head of the queue (the threads running
/// jobs are blocked): then it runs jobs, and another spare watches (an idle one, or one started,
/// up to SPARES). One spare watches at a time, the others wait idle and end after IDLE. Returns
/// the lock to run jobs with, or None to end.
fn wait_needed<'a>(
  mut q: std::sync::MutexGuard<'a, Queue>,
  shared: &'a Arc<Shared>,
) -> Option<std::sync::MutexGuard<'a, Queue>> {
  loop {
    if shared.stop.load(Ordering::SeqCst) {
      return None;
    }
    if q.watching {
      q.idle += 1;
      let (g, t) = shared
        .idle
        .wait_timeout(q, IDLE)
        .unwrap_or_else(|e| e.into_inner());
      q = g;
      q.idle -= 1;
      if t.timed_out() && q.watching {
        q.spares -= 1;
        return None;
      }
      continue;
    }
    q.watching = true;
    let mut head = None;
    let mut quiet = 0u32;
    loop {
      if quiet >= QUIET_TICKS {
        q.watch_asleep = true;
        q = shared.watch.wait(q).unwrap_or_else(|e| e.into_inner());
        quiet = 0;
      } else {
        q = shared
          .watch
          .wait_timeout(q, TICK)
          .unwrap_or_else(|e| e.into_inner())
          .0;
      }
      if shared.stop.load(Ordering::SeqCst) {
        q.watching = false;
        return None;
      }
      quiet = if shared.outstanding.load(Ordering::Relaxed) == 0 {
        quiet + 1
      } else {
        0
      };
      let now = q.jobs.front().map(|j| j.token);
      if now.is_some() && now == head {
        break;
      }
      head = now;
    }
    q.watching = false;
    q.watch_asleep = false;
    if q.idle > 0 {
      shared.idle.notify_one();
    } else if q.spares < SPARES {
      add_spare(shared, &mut q);
    }
    return Some(q);
  }
}

/// Posts `results` into the target ring's CQ, each as a CQE with the op's token and result
/// (at most POSTS: a thread adds at most a job's three before it looks whether to post).
/// A post the kernel refuses (the target's CQ full) is retried after a short sleep. Returns
/// false when it gave up because the ring is being dropped.
fn post(own: &mut IoUring, target: i32, results: &mut Vec<(u32, i32)>, stop: &AtomicBool) -> bool {
  'post: while !results.is_empty() {
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
      if let Err(e) = own.submit() {
        if e.raw_os_error() == Some(libc::EBADF) {
          // Its fd was closed under it (a double close elsewhere): a new ring, the posts again.
          match own_ring() {
            Ok(r) => *own = r,
            Err(_) => return false,
          }
          continue 'post;
        }
      }
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
