//! The ring: setup, the slab of in-flight ops and what it knows of itself. Submitting is in
//! `submit.rs`, reaping and cancelling in `reap.rs`.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use io_uring::{opcode, IoUring, Probe};

pub use crate::bufring::buffer_id;
use crate::bufring::BufferGroup;
use crate::executor::Executor;
use crate::job::Job;
use crate::op::{Op, EXECUTOR_ONLY, OP_NAMES};
use crate::submitter::Submitter;
use crate::sys::eventfd;

pub(crate) const IORING_ENTER_GETEVENTS: u32 = 1 << 0;
pub(crate) const IORING_ENTER_SQ_WAKEUP: u32 = 1 << 1;
pub(crate) const IORING_ENTER_SQ_WAIT: u32 = 1 << 2;

/// user_data of the engine's own SQEs (cancellations): never a slot index.
pub(crate) const INTERNAL: u64 = u64::MAX;

/// SQEs waiting in the SQ that make the owner wake a sleeping submitter thread (measured
/// against 1: qd1 0.23-0.27M reads/s instead of 0.29-0.30M, two enters per read).
pub(crate) const WAKE_AT: usize = 4;

/// Largest SQ the kernel accepts (`IORING_MAX_ENTRIES`).
pub const MAX_ENTRIES: u32 = 32768;

/// How a ring was set up. The first mode the kernel accepts wins, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
  /// `SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG` (6.1+): completions run only when we ask.
  DeferTaskrun,
  /// `COOP_TASKRUN | TASKRUN_FLAG` (5.19+).
  CoopTaskrun,
  /// No setup flags.
  Plain,
  /// No setup flags, and a submitter thread makes the `io_uring_enter` calls (see
  /// [`Options::submitter`]).
  Submitter,
  /// `SQPOLL`: a kernel thread consumes the SQ; submitting needs no syscall while it is awake.
  SqPoll,
}

impl Mode {
  pub fn name(self) -> &'static str {
    match self {
      Mode::DeferTaskrun => "defer_taskrun",
      Mode::CoopTaskrun => "coop_taskrun",
      Mode::Plain => "plain",
      Mode::Submitter => "submitter",
      Mode::SqPoll => "sqpoll",
    }
  }
}

/// SQPOLL settings.
#[derive(Clone, Copy, Debug)]
pub struct SqPoll {
  /// Milliseconds the SQ thread spins without work before it sleeps. Must be at least 1: the
  /// kernel silently turns 0 into one second.
  pub idle_ms: u32,
  /// Pin the SQ thread to this CPU (`IORING_SETUP_SQ_AFF`).
  pub cpu: Option<u32>,
}

/// Ring settings.
#[derive(Clone, Copy, Debug)]
pub struct Options {
  /// SQ size (1..=32768, rounded up to a power of two by the kernel). Also the cap on ops the
  /// engine keeps inside the kernel at once; further ops wait in the engine's queue.
  pub entries: u32,
  pub sqpoll: Option<SqPoll>,
  /// Without SQPOLL: submit through a thread of the ring's own ([`Mode::Submitter`]), so that the
  /// work the kernel does inline while submitting (a page-cache read and its copy) runs beside the
  /// owner's thread instead of on it. The thread sleeps 50 us after the SQ empties. If the thread
  /// cannot be started the ring falls back to the other modes.
  pub submitter: bool,
  /// Slots of the registered file table (sparse, 5.19+) that ops can open into and use instead
  /// of fds ([`File::Fixed`](crate::op::File::Fixed)). 0: none. A kernel that refuses the table
  /// leaves the ring without one ([`Ring::files`] is 0) rather than failing.
  pub files: u32,
  /// Threads of the ring's own that run the ops io_uring would hand to an io-wq worker (STATX,
  /// the path ops, writeFile's open-write-close chain),
  /// with plain syscalls, posting their results into the CQ (`IORING_OP_MSG_RING`, 5.18+); 0:
  /// none, every op goes to the kernel. Started on first use; a kernel without MSG_RING, or a
  /// thread that cannot be started, leaves those ops to the kernel.
  pub executor: u32,
}

impl Default for Options {
  fn default() -> Self {
    Options {
      entries: 256,
      sqpoll: None,
      submitter: false,
      files: 0,
      executor: 0,
    }
  }
}

/// Counters for `stats()`. All counts are since the ring was created.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
  /// Ops handed to the kernel (SQEs made visible to it), the engine's own cancellations excluded.
  pub submitted: u64,
  /// Final completions reaped (one per op).
  pub completed: u64,
  /// `io_uring_enter` calls this ring made, for any reason.
  pub enter_calls: u64,
  /// Ops owned by the ring: queued or inside the kernel.
  pub in_flight: u32,
  /// Ops waiting in the engine's queue because the SQ was full or the cap was reached.
  pub queued: u32,
  /// Times the kernel reported a CQ overflow that the engine had to flush.
  pub cq_overflows: u64,
  /// Wake-ups of the submitting thread the engine had to request: the SQPOLL kernel thread's, or
  /// the submitter thread's.
  pub sq_wakeups: u64,
  /// Ops the executor ran (see [`Options::executor`]) instead of the kernel.
  pub executed: u64,
}

/// One reaped completion. `keep` and `op` are handed back only with the final CQE of an op:
/// from then on the kernel touches none of the op's memory.
pub struct Completion<T> {
  pub token: u32,
  /// The CQE's result: a count or fd on success, `-errno` on failure.
  pub result: i32,
  pub flags: u32,
  /// `Some` on the op's final completion (always, for the single-shot ops that exist today).
  pub done: Option<(Op, T)>,
}

pub(crate) struct Slot<T> {
  pub(crate) op: Op,
  pub(crate) keep: T,
  /// The SQE has been written into the SQ (the kernel may now touch the op's memory).
  pub(crate) in_kernel: bool,
  /// Linked to the op pushed after it (`IOSQE_IO_LINK`): that one starts only if this one
  /// succeeds (a short read or write counts as failure), and is cancelled otherwise.
  pub(crate) link: bool,
  /// The link holds whatever this op's result (`IOSQE_IO_HARDLINK`); see [`Ring::harden_link`].
  pub(crate) hard: bool,
}

/// An io_uring instance plus ownership of everything its in-flight ops point at.
///
/// `T` is whatever keeps the caller's buffers alive (a reference to a JS buffer in the binding,
/// a `Vec<u8>` in tests). The ring holds it from [`push`](Ring::push) until the op's final CQE is
/// reaped, and hands it back then through [`reap`](Ring::reap). Nothing else releases it: not
/// dropping a handle, not [`cancel_all`](Ring::cancel_all), not dropping the ring (which leaks
/// what is still in flight rather than free memory the kernel may still write).
pub struct Ring<T> {
  pub(crate) ring: IoUring,
  pub(crate) mode: Mode,
  pub(crate) eventfd: Option<OwnedFd>,
  pub(crate) sq_thread: Option<Submitter>,
  pub(crate) executor: Option<Executor>,
  /// Jobs for the executor not handed to it yet (their slots count as in the kernel).
  pub(crate) jobs: Vec<Job>,
  pub(crate) probe: Option<Probe>,
  pub(crate) slots: Vec<Option<Slot<T>>>,
  pub(crate) free: Vec<u32>,
  /// Tokens of ops not yet written into the SQ, in submission order.
  pub(crate) backlog: VecDeque<u32>,
  /// Completions made without the kernel: ops cancelled before they reached it, and ops the
  /// owner completed itself ([`Ring::push_done`]).
  pub(crate) local: VecDeque<(u32, i32)>,
  /// Of each writeFile chain handed to the executor, by its close's token: the open's and the
  /// write's, which a `WRITE_FILE_DONE` posted for the close stands for too (see `job.rs`). An
  /// entry left by a chain posted op by op is replaced when its token is used for another.
  pub(crate) packed: HashMap<u32, [u32; 2]>,
  /// Time the owner spent waiting for the submitter thread's completions, not yet spent doing
  /// reads itself (see [`Ring::owner_may_read`]).
  pub(crate) slack: std::time::Duration,
  /// SQEs written into the SQ and not yet passed to `io_uring_enter` (non-SQPOLL rings).
  pub(crate) unsubmitted: u32,
  /// Ops whose SQE is in the SQ or the kernel, not yet completed.
  pub(crate) in_kernel: u32,
  /// Of those, standing multishot ops (accept, recv): they can stay for ever, so they do not
  /// count against `cap` — else a few hundred idle sockets would hold every other op back.
  pub(crate) standing: u32,
  pub(crate) cap: u32,
  /// Slots in the registered file table (0: no table).
  pub(crate) files: u32,
  /// Ops pushed now are linked to the next ([`begin_chain`](Ring::begin_chain)).
  pub(crate) chaining: bool,
  /// Provided-buffer groups ([`add_buffer_group`](Ring::add_buffer_group)).
  pub(crate) groups: Vec<BufferGroup>,
  /// The registered personality every SQE carries ([`adopt_credentials`](Ring::adopt_credentials)).
  pub(crate) personality: Option<u16>,
  pub(crate) stats: Stats,
}

/// Adds a setup mode's flags to a ring builder.
type SetupFlags = fn(&mut io_uring::Builder);

impl<T> Ring<T> {
  /// Creates a ring, trying the fastest setup the kernel accepts (see [`Mode`]).
  pub fn new(options: Options) -> io::Result<Ring<T>> {
    if options.entries == 0 || options.entries > MAX_ENTRIES {
      return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let entries = options.entries.next_power_of_two();
    let cq = entries * 2;
    let (ring, mode) = match options.sqpoll {
      Some(sq) => {
        if sq.idle_ms == 0 {
          return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut b = IoUring::builder();
        b.setup_cqsize(cq).setup_sqpoll(sq.idle_ms);
        if let Some(cpu) = sq.cpu {
          b.setup_sqpoll_cpu(cpu);
        }
        (b.build(entries)?, Mode::SqPoll)
      }
      None if options.submitter => {
        let ring = IoUring::builder().setup_cqsize(cq).build(entries)?;
        // SAFETY: the ring's fd stays open for this call (`ring` is alive); the thread dups it.
        match Submitter::start(unsafe { BorrowedFd::borrow_raw(ring.as_raw_fd()) }) {
          Ok(s) => return Ok(Self::made(ring, Mode::Submitter, None, Some(s), options)),
          // No thread (resource limits): submit from the owner's thread instead.
          Err(_) => {
            return Self::new(Options {
              submitter: false,
              ..options
            })
          }
        }
      }
      None => {
        let attempts: [(Mode, SetupFlags); 3] = [
          (Mode::DeferTaskrun, |b| {
            b.setup_single_issuer().setup_defer_taskrun().setup_taskrun_flag();
          }),
          (Mode::CoopTaskrun, |b| {
            b.setup_coop_taskrun().setup_taskrun_flag();
          }),
          (Mode::Plain, |_| {}),
        ];
        let mut last = io::Error::from_raw_os_error(libc::EINVAL);
        let mut made = None;
        for (mode, flags) in attempts {
          let mut b = IoUring::builder();
          b.setup_cqsize(cq);
          flags(&mut b);
          match b.build(entries) {
            Ok(r) => {
              made = Some((r, mode));
              break;
            }
            // EINVAL: the kernel does not know these flags; try fewer.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = e,
            Err(e) => return Err(e),
          }
        }
        made.ok_or(last)?
      }
    };
    let eventfd = if mode == Mode::DeferTaskrun {
      let fd = eventfd(libc::EFD_NONBLOCK)?;
      ring.submitter().register_eventfd(fd.as_raw_fd())?;
      Some(fd)
    } else {
      None
    };
    Ok(Self::made(ring, mode, eventfd, None, options))
  }

  fn made(
    ring: IoUring,
    mode: Mode,
    eventfd: Option<OwnedFd>,
    submitter: Option<Submitter>,
    options: Options,
  ) -> Ring<T> {
    // A sparse table (5.19+): every slot empty until an op opens into it.
    let files = options.files;
    let files = if files > 0 && ring.submitter().register_files_sparse(files).is_ok() {
      files
    } else {
      0
    };
    let mut probe = Probe::new();
    let probe = ring.submitter().register_probe(&mut probe).ok().map(|_| probe);
    let msg_ring = probe
      .as_ref()
      .is_some_and(|p| p.is_supported(opcode::MsgRingData::CODE));
    let executor = if options.executor > 0 && msg_ring {
      // SAFETY: the ring's fd is open for this call (`ring` is alive); the executor dups it.
      Executor::new(
        unsafe { BorrowedFd::borrow_raw(ring.as_raw_fd()) },
        options.executor as usize,
      )
      .ok()
    } else {
      None
    };
    let cap = ring.params().sq_entries().min(ring.params().cq_entries() / 2);
    Ring {
      ring,
      mode,
      eventfd,
      sq_thread: submitter,
      executor,
      jobs: Vec::new(),
      probe,
      slots: Vec::new(),
      free: Vec::new(),
      backlog: VecDeque::new(),
      local: VecDeque::new(),
      packed: HashMap::new(),
      slack: std::time::Duration::ZERO,
      unsubmitted: 0,
      in_kernel: 0,
      standing: 0,
      cap,
      files,
      chaining: false,
      groups: Vec::new(),
      personality: None,
      stats: Stats::default(),
    }
  }

  /// Registers `count` buffers of `size` bytes as provided-buffer group `group` (kernel 5.19),
  /// for [`Op::RecvMulti`]. `count` is a power of two, at most 32768. The ring owns the memory.
  pub fn add_buffer_group(&mut self, group: u16, count: u16, size: u32) -> io::Result<()> {
    if self.groups.iter().any(|g| g.group == group) {
      return Err(io::Error::from_raw_os_error(libc::EEXIST));
    }
    let g = BufferGroup::new(&self.ring.submitter(), group, count, size)?;
    self.groups.push(g);
    Ok(())
  }

  /// The `len` bytes a completion of group `group` reported in buffer `bid` ([`buffer_id`] of
  /// its flags). Valid until the buffer is recycled.
  pub fn buffer(&self, group: u16, bid: u16, len: usize) -> Option<&[u8]> {
    self.groups.iter().find(|g| g.group == group)?.data(bid, len)
  }

  /// Gives buffer `bid` of group `group` back to the kernel once its bytes have been used.
  /// Returns false for an unknown group or buffer.
  pub fn recycle_buffer(&mut self, group: u16, bid: u16) -> bool {
    self
      .groups
      .iter_mut()
      .find(|g| g.group == group)
      .is_some_and(|g| g.recycle(bid))
  }

  /// Slots in the ring's registered file table (0: none; see [`Options::files`]).
  /// Runs every op pushed from now on with the calling thread's credentials as they are now:
  /// registers them as a personality (`IORING_REGISTER_PERSONALITY`) that each SQE then names,
  /// and drops the one before (ops already in the kernel hold their own reference to it).
  ///
  /// An SQPOLL ring's ops otherwise run with the credentials of its kernel thread, fixed when
  /// the ring was made: after `setuid`, a ring made as root would go on opening files as root
  /// (the CVE-2024-22017 class). Other rings' ops run with their submitter's current credentials.
  pub fn adopt_credentials(&mut self) -> io::Result<()> {
    let id = self.ring.submitter().register_personality()?;
    if let Some(old) = self.personality.replace(id) {
      let _ = self.ring.submitter().unregister_personality(old);
    }
    Ok(())
  }

  /// Registers `len` bytes at `base` as the ring's fixed buffer 0, for
  /// [`Op::ReadFixed`]/[`Op::WriteFixed`] with `index: 0`. The kernel pins the pages (counted
  /// against RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK): it refuses with ENOMEM past
  /// the limit, and the caller then goes on without.
  ///
  /// # Safety
  /// `base..base + len` is memory of this process that the caller owns, mapped read-write. The
  /// kernel keeps the pages themselves (not the addresses) until the ring is dropped, so freeing
  /// the memory first cannot make a later fixed op write into whatever is mapped there next.
  pub unsafe fn register_buffer(&mut self, base: *mut u8, len: usize) -> io::Result<()> {
    let iov = libc::iovec {
      iov_base: base.cast(),
      iov_len: len,
    };
    // SAFETY: per this function's contract.
    unsafe { self.ring.submitter().register_buffers(&[iov]) }
  }

  pub fn files(&self) -> u32 {
    self.files
  }

  pub fn mode(&self) -> Mode {
    self.mode
  }

  /// The ring's fd: readable (EPOLLIN) when completions or deferred work are pending.
  pub fn fd(&self) -> i32 {
    self.ring.as_raw_fd()
  }

  /// The fd to wait on (epoll, `uv_poll`) for completions: readable when the ring has completions
  /// or deferred completion work. On a `DEFER_TASKRUN` ring this is an eventfd registered with the
  /// ring, because the ring's own fd is not woken when deferred work arrives (measured on 6.18:
  /// poll on it slept to its timeout). Call [`clear_wakeup`](Ring::clear_wakeup) when it fires.
  pub fn poll_fd(&self) -> i32 {
    self.eventfd.as_ref().map_or(self.fd(), |e| e.as_raw_fd())
  }

  /// Resets the eventfd behind [`poll_fd`](Ring::poll_fd), if there is one (one `read`).
  pub fn clear_wakeup(&self) {
    if let Some(e) = &self.eventfd {
      let mut v = 0u64;
      // SAFETY: reads 8 bytes into a live u64 from an fd we own; EAGAIN (not signalled) is fine.
      unsafe { libc::read(e.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
    }
  }

  pub fn sq_entries(&self) -> u32 {
    self.ring.params().sq_entries()
  }

  pub fn cq_entries(&self) -> u32 {
    self.ring.params().cq_entries()
  }

  /// Whether the kernel supports an opcode. Without a probe (kernels before 5.6) only the
  /// opcodes of 5.1 are assumed.
  pub fn supports(&self, opcode: u8) -> bool {
    match &self.probe {
      Some(p) => p.is_supported(opcode),
      None => opcode <= opcode::Fsync::CODE,
    }
  }

  /// Names of the engine's ops that this kernel supports.
  pub fn supported_ops(&self) -> Vec<&'static str> {
    OP_NAMES
      .iter()
      .filter(|(name, code)| {
        self.supports(*code) && (self.executor.is_some() || !EXECUTOR_ONLY.contains(name))
      })
      .map(|(name, _)| *name)
      .collect()
  }

  pub fn stats(&self) -> Stats {
    let mut s = self.stats;
    s.enter_calls += self.sq_thread.as_ref().map_or(0, |t| t.enter_calls());
    s.in_flight = self.in_flight();
    s.queued = self.backlog.len() as u32;
    s
  }

  /// Ops owned by the ring (queued, in the kernel, or cancelled but not yet reaped).
  pub fn in_flight(&self) -> u32 {
    (self.slots.len() - self.free.len()) as u32
  }

  /// Ops waiting in the engine's queue (not yet written into the SQ).
  pub fn queued(&self) -> u32 {
    self.backlog.len() as u32
  }
}

impl<T> Drop for Ring<T> {
  /// Never blocks and never frees memory the kernel may still use: ops still owned here (only if
  /// the owner skipped [`drain`](Ring::drain), or it timed out) are leaked, not freed. Closing the
  /// fd then makes the kernel cancel them.
  fn drop(&mut self) {
    if let Some(t) = self.sq_thread.take() {
      t.stop(self.in_kernel == 0);
    }
    // Jobs never handed over are with nobody: their ops are released like queued ones.
    for job in std::mem::take(&mut self.jobs) {
      for token in job.tokens() {
        if let Some(slot) = self.slots[token as usize].as_mut() {
          slot.in_kernel = false;
          self.in_kernel -= 1;
        }
      }
    }
    if let Some(e) = self.executor.take() {
      e.stop(self.in_kernel == 0);
    }
    for slot in self.slots.drain(..).flatten() {
      if slot.in_kernel {
        std::mem::forget(slot);
      }
    }
    // A group unmaps its memory only in `release`: while the kernel may still write into its
    // buffers (an op inside it took one), it is left mapped — leaked, like those ops.
    for g in self.groups.drain(..) {
      if self.in_kernel == 0 {
        g.release(&self.ring.submitter());
      }
    }
  }
}
