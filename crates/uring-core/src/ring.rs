//! The ring: setup, the slab of in-flight ops, backpressure, flushing, reaping, cancellation.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring, Probe};

pub use crate::bufring::buffer_id;
use crate::bufring::BufferGroup;
use crate::op::{Op, OP_NAMES};
use crate::submitter::Submitter;

const IORING_ENTER_GETEVENTS: u32 = 1 << 0;
const IORING_ENTER_SQ_WAKEUP: u32 = 1 << 1;
const IORING_ENTER_SQ_WAIT: u32 = 1 << 2;

/// user_data of the engine's own SQEs (cancellations): never a slot index.
const INTERNAL: u64 = u64::MAX;

/// SQEs waiting in the SQ that make the owner wake a sleeping submitter thread (measured
/// against 1: qd1 0.23-0.27M reads/s instead of 0.29-0.30M, two enters per read).
const WAKE_AT: usize = 4;

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
}

impl Default for Options {
  fn default() -> Self {
    Options {
      entries: 256,
      sqpoll: None,
      submitter: false,
      files: 0,
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

struct Slot<T> {
  op: Op,
  keep: T,
  /// The SQE has been written into the SQ (the kernel may now touch the op's memory).
  in_kernel: bool,
  /// Linked to the op pushed after it (`IOSQE_IO_LINK`): that one starts only if this one
  /// succeeds (a short read or write counts as failure), and is cancelled otherwise.
  link: bool,
  /// The link holds whatever this op's result (`IOSQE_IO_HARDLINK`); see [`Ring::harden_link`].
  hard: bool,
}

/// An io_uring instance plus ownership of everything its in-flight ops point at.
///
/// `T` is whatever keeps the caller's buffers alive (a reference to a JS buffer in the binding,
/// a `Vec<u8>` in tests). The ring holds it from [`push`](Ring::push) until the op's final CQE is
/// reaped, and hands it back then through [`reap`](Ring::reap). Nothing else releases it: not
/// dropping a handle, not [`cancel_all`](Ring::cancel_all), not dropping the ring (which leaks
/// what is still in flight rather than free memory the kernel may still write).
pub struct Ring<T> {
  ring: IoUring,
  mode: Mode,
  eventfd: Option<OwnedFd>,
  sq_thread: Option<Submitter>,
  probe: Option<Probe>,
  slots: Vec<Option<Slot<T>>>,
  free: Vec<u32>,
  /// Tokens of ops not yet written into the SQ, in submission order.
  backlog: VecDeque<u32>,
  /// Completions made by the engine itself (ops cancelled before they reached the kernel).
  local: VecDeque<(u32, i32)>,
  /// SQEs written into the SQ and not yet passed to `io_uring_enter` (non-SQPOLL rings).
  unsubmitted: u32,
  /// Ops whose SQE is in the SQ or the kernel, not yet completed.
  in_kernel: u32,
  /// Of those, standing multishot ops (accept, recv): they can stay for ever, so they do not
  /// count against `cap` — else a few hundred idle sockets would hold every other op back.
  standing: u32,
  cap: u32,
  /// Slots in the registered file table (0: no table).
  files: u32,
  /// Ops pushed now are linked to the next ([`begin_chain`](Ring::begin_chain)).
  chaining: bool,
  /// Provided-buffer groups ([`add_buffer_group`](Ring::add_buffer_group)).
  groups: Vec<BufferGroup>,
  /// The registered personality every SQE carries ([`adopt_credentials`](Ring::adopt_credentials)).
  personality: Option<u16>,
  stats: Stats,
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
          Ok(s) => return Ok(Self::made(ring, Mode::Submitter, None, Some(s), options.files)),
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
    Ok(Self::made(ring, mode, eventfd, None, options.files))
  }

  fn made(
    ring: IoUring,
    mode: Mode,
    eventfd: Option<OwnedFd>,
    submitter: Option<Submitter>,
    files: u32,
  ) -> Ring<T> {
    // A sparse table (5.19+): every slot empty until an op opens into it.
    let files = if files > 0 && ring.submitter().register_files_sparse(files).is_ok() {
      files
    } else {
      0
    };
    let mut probe = Probe::new();
    let probe = ring.submitter().register_probe(&mut probe).ok().map(|_| probe);
    let cap = ring.params().sq_entries().min(ring.params().cq_entries() / 2);
    Ring {
      ring,
      mode,
      eventfd,
      sq_thread: submitter,
      probe,
      slots: Vec::new(),
      free: Vec::new(),
      backlog: VecDeque::new(),
      local: VecDeque::new(),
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
      .filter(|(_, code)| self.supports(*code))
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

  /// Ops in the kernel that count against the cap (all but standing multishot ops).
  fn capped(&self) -> u32 {
    self.in_kernel - self.standing
  }

  /// Ops owned by the ring (queued, in the kernel, or cancelled but not yet reaped).
  pub fn in_flight(&self) -> u32 {
    (self.slots.len() - self.free.len()) as u32
  }

  /// Ops waiting in the engine's queue (not yet written into the SQ).
  pub fn queued(&self) -> u32 {
    self.backlog.len() as u32
  }

  /// Whether [`flush`](Ring::flush) has work: ops queued or SQEs not yet submitted.
  pub fn needs_flush(&mut self) -> bool {
    self.unsubmitted > 0
      || (!self.backlog.is_empty() && self.capped() < self.cap)
      || (self.sq_thread.is_some() && !self.ring.submission().is_empty())
  }

  /// Called after [`push`](Ring::push): hands ops to the kernel at once when that costs the
  /// calling thread no syscall, or when a full SQ's worth is waiting; otherwise they wait for
  /// the next [`flush`](Ring::flush).
  ///
  /// On an SQPOLL or submitter ring every op is published to the SQ at once (a store to the SQ
  /// tail), so that the other thread works on it while the owner goes on with its own work.
  /// Published once per loop turn instead, the two threads took turns: 0.62-0.65M reads/s at
  /// qd32 on an SQPOLL ring, against 0.95-1.07M published at once.
  pub fn publish(&mut self) -> io::Result<()> {
    if self.sq_thread.is_some() {
      self.fill_sq();
      // A sleeping submitter is woken once a few SQEs wait, not for each: a lone op (queue
      // depth 1) is cheaper submitted inline by the owner's flush than handed across threads.
      if self.ring.submission().len() >= WAKE_AT && self.sq_thread.as_ref().is_some_and(Submitter::wake) {
        self.stats.sq_wakeups += 1;
      }
      Ok(())
    } else if self.mode == Mode::SqPoll || self.queued() >= self.sq_entries() {
      self.flush()
    } else {
      Ok(())
    }
  }

  /// Takes ownership of an op and of `keep`, and queues it. It reaches the kernel at the next
  /// [`flush`](Ring::flush). Returns the op's token, reported again by its completions.
  ///
  /// # Safety
  /// Every raw pointer in `op` (`buf` of Read/Write/Statx, the `iov_base` of each iovec) must point
  /// at memory that stays valid, and that nothing else reads or writes (for buffers the kernel
  /// writes) or writes (for buffers it reads), for as long as `keep` is alive.
  ///
  /// The invariant that makes the whole crate sound rests on this: **the ring drops `keep`, and
  /// the op with its own paths and iovecs, only after reaping the op's final CQE** — handing both
  /// back in [`Completion::done`]. No other path releases them: [`cancel_all`](Ring::cancel_all)
  /// only asks the kernel to finish early, and dropping the ring with ops still inside the kernel
  /// leaks them.
  pub unsafe fn push(&mut self, op: Op, keep: T) -> u32 {
    let slot = Slot {
      op,
      keep,
      in_kernel: false,
      link: self.chaining,
      hard: false,
    };
    let token = match self.free.pop() {
      Some(t) => {
        self.slots[t as usize] = Some(slot);
        t
      }
      None => {
        self.slots.push(Some(slot));
        (self.slots.len() - 1) as u32
      }
    };
    self.backlog.push_back(token);
    token
  }

  /// Links the ops pushed from now on, each to the next, until [`end_chain`](Ring::end_chain):
  /// the kernel runs them in order, each only after the previous succeeded, and completes the
  /// rest with `-ECANCELED` once one fails. A chain enters the SQ whole, never in parts, and not
  /// before it is ended.
  pub fn begin_chain(&mut self) {
    self.chaining = true;
  }

  /// Ends the chain begun by [`begin_chain`](Ring::begin_chain): its last op is linked to nothing.
  /// A chain longer than the SQ could never be submitted: its ops complete with `-ECANCELED`
  /// and this returns `EINVAL`.
  pub fn end_chain(&mut self) -> io::Result<()> {
    self.chaining = false;
    let Some(&last) = self.backlog.back() else {
      return Ok(());
    };
    let slot = self.slots[last as usize]
      .as_mut()
      .expect("queued token has a slot");
    if !slot.link {
      return Ok(()); // nothing was pushed since begin_chain
    }
    slot.link = false;
    let start = self.chain_start(self.backlog.len() - 1);
    if (self.backlog.len() - start) as u32 > self.sq_entries() {
      self.cancel_queued(start, self.backlog.len());
      return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(())
  }

  /// Ends the chain begun by [`begin_chain`](Ring::begin_chain) without running it: its ops
  /// complete with `-ECANCELED` (for a caller that could not push all of them).
  pub fn abort_chain(&mut self) {
    if !std::mem::replace(&mut self.chaining, false) {
      return;
    }
    let len = self.backlog.len();
    if len > 0
      && self.slots[self.backlog[len - 1] as usize]
        .as_ref()
        .is_some_and(|s| s.link)
    {
      let start = self.chain_start(len - 1);
      self.cancel_queued(start, len);
    }
  }

  /// Makes the link from the op pushed last to the next one hold whatever that op's result
  /// (`IOSQE_IO_HARDLINK`): the next starts even if it fails or is short. A chain still ends
  /// at an op that was cancelled because an earlier one failed. No effect outside a chain.
  pub fn harden_link(&mut self) {
    if !self.chaining {
      return;
    }
    if let Some(&last) = self.backlog.back() {
      let slot = self.slots[last as usize]
        .as_mut()
        .expect("queued token has a slot");
      slot.hard = slot.link;
    }
  }

  /// Index in the backlog of the first op of the chain that the op at `i` belongs to.
  fn chain_start(&self, mut i: usize) -> usize {
    while i > 0
      && self.slots[self.backlog[i - 1] as usize]
        .as_ref()
        .is_some_and(|s| s.link)
    {
      i -= 1;
    }
    i
  }

  /// Length of the chain that starts at the head of the backlog (1 for an unlinked op), or
  /// `None` while that chain is still open (its last op pushed so far is linked onward).
  fn head_chain_len(&self) -> Option<usize> {
    let mut i = 0;
    loop {
      let token = *self.backlog.get(i)?;
      if !self.slots[token as usize]
        .as_ref()
        .expect("queued token has a slot")
        .link
      {
        return Some(i + 1);
      }
      i += 1;
    }
  }

  /// Completes the queued ops at backlog indices `start..end` with `-ECANCELED`.
  fn cancel_queued(&mut self, start: usize, end: usize) {
    for token in self.backlog.drain(start..end) {
      self.local.push_back((token, -libc::ECANCELED));
    }
  }

  /// Writes queued ops into the SQ while it has room and the cap allows; returns how many.
  fn fill_sq(&mut self) -> u32 {
    let mut n = 0;
    while let Some(len) = self.head_chain_len() {
      let capped = self.capped();
      let mut sq = self.ring.submission();
      // A chain goes in whole. Over the cap only into an empty kernel, so that a chain longer
      // than the cap still runs (end_chain keeps chains within the SQ's size).
      if sq.capacity() - sq.len() < len || (capped > 0 && capped as usize + len > self.cap as usize) {
        break;
      }
      for _ in 0..len {
        let token = self.backlog.pop_front().expect("chain counted in the backlog");
        let slot = self.slots[token as usize]
          .as_mut()
          .expect("queued token has a slot");
        let mut entry = slot.op.entry().user_data(token as u64);
        if let Some(p) = self.personality {
          entry = entry.personality(p);
        }
        if slot.link {
          entry = entry.flags(if slot.hard {
            squeue::Flags::IO_HARDLINK
          } else {
            squeue::Flags::IO_LINK
          });
        }
        // SAFETY: the entry's pointers point into `slot.op` (heap-owned paths and iovecs) or at
        // the caller's memory kept valid by `slot.keep` (the contract of `push`). The slot stays
        // occupied, and so both stay alive, until this token's final CQE is reaped in `reap`.
        unsafe { sq.push(&entry).expect("SQ room checked") };
        slot.in_kernel = true;
        self.in_kernel += 1;
        if slot.op.standing() {
          self.standing += 1;
        }
        n += 1;
      }
    }
    let mut sq = self.ring.submission();
    sq.sync();
    self.stats.submitted += n as u64;
    if let Some(t) = &self.sq_thread {
      if n > 0 {
        t.published(n);
      }
    }
    n
  }

  fn enter(&mut self, to_submit: u32, min_complete: u32, flags: u32) -> io::Result<usize> {
    self.stats.enter_calls += 1;
    // SAFETY: no extended argument is passed (arg = None), so the kernel reads no user memory
    // beyond the rings themselves.
    unsafe {
      self
        .ring
        .submitter()
        .enter::<libc::sigset_t>(to_submit, min_complete, flags, None)
    }
  }

  /// Hands queued ops to the kernel. One `io_uring_enter` per SQ-full of ops on ordinary rings;
  /// none on an SQPOLL ring whose thread is awake. Transient kernel refusals (EAGAIN, EBUSY,
  /// EINTR) leave the ops queued for the next flush.
  pub fn flush(&mut self) -> io::Result<()> {
    loop {
      self.unsubmitted += self.fill_sq();
      if let Some(t) = &self.sq_thread {
        // What the submitter thread has not consumed yet. If it is awake it will; if it is idle,
        // submit here (inline, as on a plain ring) rather than wake it for what may be one op.
        self.unsubmitted = self.ring.submission().len() as u32;
        if self.unsubmitted == 0 || !t.idle() {
          return Ok(());
        }
      }
      if self.mode == Mode::SqPoll {
        // Order our tail store before reading NEED_WAKEUP (tokio-rs/io-uring#197).
        fence(Ordering::SeqCst);
        let sq = self.ring.submission();
        let wake = sq.need_wakeup_after_intermittent_seqcst();
        let overflow = sq.cq_overflow();
        drop(sq);
        if wake || overflow {
          let mut flags = 0;
          if wake {
            flags |= IORING_ENTER_SQ_WAKEUP;
            self.stats.sq_wakeups += 1;
          }
          if overflow {
            flags |= IORING_ENTER_GETEVENTS;
          }
          match self.enter(0, 0, flags) {
            Ok(_) => {}
            Err(e) if transient(&e) => return Ok(()),
            Err(e) => return Err(e),
          }
        }
        self.unsubmitted = 0;
        return Ok(());
      }
      if self.unsubmitted == 0 {
        return Ok(());
      }
      match self.enter(self.unsubmitted, 0, self.submit_flags()) {
        Ok(_) => {
          // What the kernel did not consume stays in the SQ for the next enter.
          self.unsubmitted = self.ring.submission().len() as u32;
        }
        Err(e) if transient(&e) => return Ok(()),
        Err(e) => return Err(e),
      }
      if self.backlog.is_empty() || self.capped() >= self.cap || self.unsubmitted > 0 {
        return Ok(());
      }
    }
  }

  /// Flags of a submitting `io_uring_enter` from this thread: on a DEFER_TASKRUN ring it also
  /// runs the completion work of what just completed, so reaping finds it.
  fn submit_flags(&self) -> u32 {
    if self.mode == Mode::DeferTaskrun {
      IORING_ENTER_GETEVENTS
    } else {
      0
    }
  }

  /// Returns once the kernel has consumed the SQ's entries (or room appeared): submits them from
  /// this thread, even where a submitter thread would, or on an SQPOLL ring waits for its kernel
  /// thread (`IORING_ENTER_SQ_WAIT`).
  fn make_room(&mut self) -> io::Result<()> {
    self.fill_sq();
    let pending = self.ring.submission().len() as u32;
    let r = match self.mode {
      Mode::SqPoll => self.enter(0, 0, IORING_ENTER_SQ_WAKEUP | IORING_ENTER_SQ_WAIT),
      _ => self.enter(pending, 0, self.submit_flags()),
    };
    self.unsubmitted = if self.mode == Mode::SqPoll {
      0
    } else {
      self.ring.submission().len() as u32
    };
    r.map(|_| ())
  }

  /// Runs deferred completion work if the kernel says some is pending (DEFER_TASKRUN,
  /// TASKRUN_FLAG) or the CQ overflowed, so that reaping finds those completions.
  fn run_deferred(&mut self) {
    let sq = self.ring.submission();
    let overflow = sq.cq_overflow();
    let taskrun = sq.taskrun();
    drop(sq);
    if overflow {
      self.stats.cq_overflows += 1;
    }
    if overflow || taskrun {
      let _ = self.enter(0, 0, IORING_ENTER_GETEVENTS);
    }
  }

  /// Whether [`reap`](Ring::reap) would find something now without waiting: engine-made
  /// completions, CQEs in the CQ, or deferred completion work the kernel flags as pending.
  pub fn ready(&mut self) -> bool {
    if !self.local.is_empty() {
      return true;
    }
    let sq = self.ring.submission();
    let pending = sq.taskrun() || sq.cq_overflow();
    drop(sq);
    pending || !self.ring.completion().is_empty()
  }

  /// Waits up to `max`, spinning, for completions the submitter thread is about to post: while
  /// it is inside an `io_uring_enter` (page-cache reads complete inside the call, and their CQEs
  /// are posted as it returns) or awake with SQEs to submit. Returns [`ready`](Ring::ready).
  ///
  /// Why: the owner would otherwise go back to its event loop and sleep in `epoll_wait` for a
  /// few microseconds, then be woken by the ring's eventfd from the other core — on a VM a
  /// halted vCPU woken by an IPI. At qd32 that was 7,400 sleeps a second and left the JS thread
  /// idle a quarter of the time while it was the slower of the two threads (benchmarks/RESULTS.md,
  /// 2026-12-02: 4 KiB reads +17-25% with a 20 us bound). Ops that wait in the kernel (sockets,
  /// disk) keep no `io_uring_enter` busy, so they never make the owner spin.
  pub fn wait_imminent(&mut self, max: Duration) -> bool {
    if self.sq_thread.is_none() {
      return self.ready();
    }
    let t0 = Instant::now();
    let mut i = 0u32;
    loop {
      if !self.ring.completion().is_empty() {
        return true;
      }
      let sq_empty = self.ring.submission().is_empty();
      if !self.sq_thread.as_ref().is_some_and(|t| t.working(sq_empty)) {
        return self.ready();
      }
      std::hint::spin_loop();
      i = i.wrapping_add(1);
      if i.is_multiple_of(32) && t0.elapsed() >= max {
        return self.ready();
      }
    }
  }

  /// Reaps up to `max` completions, calling `f` for each. Returns how many were reaped. An op's
  /// slot (and so its token) becomes free for reuse only here, after its final CQE.
  pub fn reap(&mut self, max: usize, mut f: impl FnMut(Completion<T>)) -> usize {
    let mut n = 0;
    while n < max {
      let Some((token, result)) = self.local.pop_front() else {
        break;
      };
      let done = self.release(token);
      f(Completion {
        token,
        result,
        flags: 0,
        done: Some(done),
      });
      n += 1;
    }
    if n == max {
      return n;
    }
    self.run_deferred();
    loop {
      let mut batch = [(0u64, 0i32, 0u32); 64];
      let mut got = 0;
      {
        let cq = self.ring.completion();
        for cqe in cq.take((max - n).min(batch.len())) {
          batch[got] = (cqe.user_data(), cqe.result(), cqe.flags());
          got += 1;
        }
      }
      if got == 0 {
        return n;
      }
      for &(user_data, result, flags) in &batch[..got] {
        if user_data == INTERNAL {
          continue;
        }
        let token = user_data as u32;
        let done = if cqueue::more(flags) {
          None
        } else {
          self.in_kernel -= 1;
          if self.slots[token as usize]
            .as_ref()
            .is_some_and(|s| s.op.standing())
          {
            self.standing -= 1;
          }
          Some(self.release(token))
        };
        f(Completion {
          token,
          result,
          flags,
          done,
        });
        n += 1;
      }
      if n >= max {
        return n;
      }
    }
  }

  fn release(&mut self, token: u32) -> (Op, T) {
    let slot = self.slots[token as usize]
      .take()
      .expect("completion for a live slot");
    self.free.push(token);
    self.stats.completed += 1;
    (slot.op, slot.keep)
  }

  /// Asks every op to finish early: queued ops complete with `-ECANCELED` without reaching the
  /// kernel; ops inside it get an `IORING_OP_ASYNC_CANCEL` matching all. Their memory is still
  /// released only when their CQEs are reaped. Ops that already finished complete normally.
  pub fn cancel_all(&mut self) -> io::Result<()> {
    self.chaining = false;
    self.cancel_queued(0, self.backlog.len());
    if self.in_kernel == 0 {
      return Ok(());
    }
    let entry = opcode::AsyncCancel2::new(types::CancelBuilder::any())
      .build()
      .user_data(INTERNAL);
    self.push_internal(&entry)
  }

  /// Asks one op to finish early. A queued op completes with `-ECANCELED` without reaching the
  /// kernel; for an op inside it, an `IORING_OP_ASYNC_CANCEL` targets its token, and the op then
  /// completes with `-ECANCELED` (or `-EINTR`) if the kernel could stop it, normally if it had
  /// finished or could not be stopped. Returns false when `token` is not an op in flight. As
  /// always, the op's memory is released only when its final CQE is reaped.
  pub fn cancel(&mut self, token: u32) -> io::Result<bool> {
    let Some(Some(slot)) = self.slots.get(token as usize) else {
      return Ok(false);
    };
    if !slot.in_kernel {
      // A queued op of a chain takes its whole chain with it (the kernel would cancel the rest).
      if let Some(i) = self.backlog.iter().position(|&t| t == token) {
        let start = self.chain_start(i);
        let mut end = i + 1;
        while self.slots[self.backlog[end - 1] as usize]
          .as_ref()
          .is_some_and(|s| s.link)
          && end < self.backlog.len()
        {
          end += 1;
        }
        self.cancel_queued(start, end);
      }
      return Ok(true);
    }
    let entry = opcode::AsyncCancel::new(token as u64).build().user_data(INTERNAL);
    self.push_internal(&entry)?;
    Ok(true)
  }

  /// Puts one of the engine's own SQEs (a cancellation: no pointers) into the SQ and submits it.
  fn push_internal(&mut self, entry: &io_uring::squeue::Entry) -> io::Result<()> {
    {
      let mut sq = self.ring.submission();
      // SAFETY: the engine's own entries (cancellations) carry no pointers.
      if unsafe { sq.push(entry) }.is_err() {
        drop(sq);
        // The SQ is full of our own entries: have the kernel take them first, then retry once.
        self.make_room()?;
        let mut sq = self.ring.submission();
        // SAFETY: as above.
        unsafe { sq.push(entry) }.map_err(|_| io::Error::from_raw_os_error(libc::EBUSY))?;
      }
    }
    self.unsubmitted += 1;
    self.ring.submission().sync();
    self.flush()
  }

  /// Blocks until every owned op has completed or `timeout` has passed, handing each completion
  /// to `f`. Returns the number of ops still in flight. Used when a ring is closed or its thread
  /// exits, after [`cancel_all`](Ring::cancel_all).
  pub fn drain(&mut self, timeout: Duration, mut f: impl FnMut(Completion<T>)) -> u32 {
    let deadline = Instant::now() + timeout;
    while self.in_flight() > 0 {
      let _ = self.flush();
      if self.reap(usize::MAX, &mut f) > 0 || self.in_kernel == 0 {
        // Progress, or only queued ops left (the next flush moves them): no need to wait.
        continue;
      }
      let now = Instant::now();
      if now >= deadline {
        break;
      }
      let left = deadline - now;
      let ts = types::Timespec::new()
        .sec(left.as_secs())
        .nsec(left.subsec_nanos());
      let args = types::SubmitArgs::new().timespec(&ts);
      self.stats.enter_calls += 1;
      let _ = self.ring.submitter().submit_with_args(1, &args);
    }
    self.in_flight()
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

/// A new close-on-exec eventfd with these extra flags.
pub(crate) fn eventfd(flags: i32) -> io::Result<OwnedFd> {
  // SAFETY: eventfd returns a new fd or -1; a new fd is owned by nobody else.
  let fd = unsafe { libc::eventfd(0, flags | libc::EFD_CLOEXEC) };
  if fd < 0 {
    return Err(io::Error::last_os_error());
  }
  // SAFETY: as above.
  Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn transient(e: &io::Error) -> bool {
  matches!(
    e.raw_os_error(),
    Some(libc::EAGAIN) | Some(libc::EBUSY) | Some(libc::EINTR)
  )
}
