//! Handing ops to the kernel: queueing what does not fit, writing SQEs, chains, and the
//! `io_uring_enter` calls that submit (from this thread, or left to the submitter thread or
//! SQPOLL's).

use std::io;
use std::sync::atomic::{fence, Ordering};
use std::time::Duration;

use io_uring::squeue;

use crate::executor::BATCH;
use crate::job::{Job, Work};
use crate::op::Op;
use crate::ring::{
  Mode, Ring, Slot, IORING_ENTER_GETEVENTS, IORING_ENTER_SQ_WAIT, IORING_ENTER_SQ_WAKEUP, WAKE_AT,
};
use crate::submitter::Submitter;
use crate::sys::transient;

impl<T> Ring<T> {
  /// Ops in the kernel that count against the cap (all but standing multishot ops).
  pub(crate) fn capped(&self) -> u32 {
    self.in_kernel - self.standing
  }

  /// Whether [`flush`](Ring::flush) has work: ops queued or SQEs not yet submitted.
  pub fn needs_flush(&mut self) -> bool {
    self.unsubmitted > 0
      || !self.jobs.is_empty()
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
  /// back in [`Completion::done`](crate::Completion::done). No other path releases them: [`cancel_all`](Ring::cancel_all)
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
    let token = self.occupy(slot);
    self.backlog.push_back(token);
    token
  }

  /// Whether the owner had better do a page-cache read itself than queue it: a submitter thread
  /// is busy with at least `waiting` SQEs queued for it, and the owner has spent at least `cost`
  /// waiting for that thread's completions since it last read itself (that time is then used).
  pub fn owner_may_read(&mut self, waiting: usize, cost: Duration) -> bool {
    if self.chaining || self.slack < cost {
      return false;
    }
    let Some(t) = &self.sq_thread else {
      return false;
    };
    let n = self.ring.submission().len() + self.backlog.len();
    if n >= waiting && t.working(n == 0) {
      self.slack -= cost;
      return true;
    }
    false
  }

  /// An op its owner completed itself, without the kernel: it takes a token, and the next
  /// [`reap`](Ring::reap) delivers it with `result`, like a CQE. The op and `keep` are handed
  /// back then, as for any op.
  pub fn push_done(&mut self, op: Op, keep: T, result: i32) -> u32 {
    let slot = Slot {
      op,
      keep,
      in_kernel: false,
      link: false,
      hard: false,
    };
    let token = self.occupy(slot);
    self.local.push_back((token, result));
    token
  }

  /// Puts `slot` in a free place of the slab (or a new one); its index is the op's token.
  fn occupy(&mut self, slot: Slot<T>) -> u32 {
    match self.free.pop() {
      Some(t) => {
        self.slots[t as usize] = Some(slot);
        t
      }
      None => {
        self.slots.push(Some(slot));
        (self.slots.len() - 1) as u32
      }
    }
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
  pub(crate) fn chain_start(&self, mut i: usize) -> usize {
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
  pub(crate) fn head_chain_len(&self) -> Option<usize> {
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
  pub(crate) fn cancel_queued(&mut self, start: usize, end: usize) {
    for token in self.backlog.drain(start..end) {
      self.local.push_back((token, -libc::ECANCELED));
    }
  }

  /// Hands the waiting jobs to the executor. True if it could start no thread: the jobs went back
  /// to the head of the backlog (the executor is gone), for the next fill to make SQEs of them.
  pub(crate) fn hand_jobs(&mut self) -> bool {
    if self.jobs.is_empty() {
      return false;
    }
    let n = self.jobs.iter().map(|j| j.tokens().count() as u64).sum::<u64>();
    let ex = self.executor.as_mut().expect("jobs only with an executor");
    match ex.run(&mut self.jobs) {
      true => {
        self.stats.executed += n;
        false
      }
      false => {
        self.executor = None;
        for job in std::mem::take(&mut self.jobs).into_iter().rev() {
          for token in job.tokens().rev() {
            let slot = self.slots[token as usize].as_mut().expect("job has a slot");
            slot.in_kernel = false;
            self.in_kernel -= 1;
            self.backlog.push_front(token);
          }
        }
        true
      }
    }
  }

  /// Writes queued ops into the SQ while it has room and the cap allows; returns how many.
  pub(crate) fn fill_sq(&mut self) -> u32 {
    let mut n = 0;
    while let Some(len) = self.head_chain_len() {
      let capped = self.capped();
      let mut sq = self.ring.submission();
      // A chain goes in whole. Over the cap only into an empty kernel, so that a chain longer
      // than the cap still runs (end_chain keeps chains within the SQ's size).
      if sq.capacity() - sq.len() < len || (capped > 0 && capped as usize + len > self.cap as usize) {
        break;
      }
      // An op on its own that the executor runs (the kernel would only punt it to io-wq): a job,
      // counted in the kernel like an SQE (its slot is kept until the CQE the executor posts).
      // Jobs wait in `jobs` until the flush (or a batch's worth): one wake-up of the executor
      // for what a loop turn's reactions asked, not one per op.
      if len == 1 && self.executor.is_some() {
        let token = *self.backlog.front().expect("chain counted in the backlog");
        let slot = self.slots[token as usize]
          .as_mut()
          .expect("queued token has a slot");
        if let Some(work) = Work::of(&slot.op) {
          drop(sq);
          self.backlog.pop_front();
          slot.in_kernel = true;
          self.in_kernel += 1;
          self.jobs.push(Job { token, work });
          continue;
        }
      }
      // writeFile's chain whose open creates or truncates (io-wq again): one job for its three.
      if len == 3 && self.executor.is_some() {
        let tokens = [self.backlog[0], self.backlog[1], self.backlog[2]];
        let slot = |t: u32| self.slots[t as usize].as_ref().expect("queued token has a slot");
        let [o, w, c] = [slot(tokens[0]), slot(tokens[1]), slot(tokens[2])];
        let soft = o.link && w.link && !c.link && !o.hard && !w.hard;
        if let Some(work) = Work::of_chain([&o.op, &w.op, &c.op], tokens).filter(|_| soft) {
          drop(sq);
          for t in tokens {
            self.backlog.pop_front();
            self.slots[t as usize]
              .as_mut()
              .expect("queued token has a slot")
              .in_kernel = true;
          }
          self.in_kernel += 3;
          // The close's token stands for all three when the job posts them as one.
          self.packed.insert(tokens[2], [tokens[0], tokens[1]]);
          self.jobs.push(Job {
            token: tokens[0],
            work,
          });
          continue;
        }
      }
      for _ in 0..len {
        let token = self.backlog.pop_front().expect("chain counted in the backlog");
        let slot = self.slots[token as usize]
          .as_mut()
          .expect("queued token has a slot");
        if slot.op.executor_only() {
          // No SQE can do it (readdir) and no executor is left (it could start no thread):
          // run here, at the flush. In a chain (nothing makes one) it is refused.
          let mut done = Vec::with_capacity(1);
          match Work::of(&slot.op).filter(|_| len == 1) {
            // SAFETY: the job's pointers point into the op's slot, which stays occupied until
            // this result is reaped; nothing else touches them meanwhile (this thread runs it).
            Some(work) => unsafe { work.run_into(token, &mut done) },
            None => done.push((token, -libc::EINVAL)),
          }
          self.local.extend(done);
          continue;
        }
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
    if self.jobs.len() >= BATCH && self.hand_jobs() {
      return n + self.fill_sq();
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

  pub(crate) fn enter(&mut self, to_submit: u32, min_complete: u32, flags: u32) -> io::Result<usize> {
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
      if self.hand_jobs() {
        continue;
      }
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
  pub(crate) fn submit_flags(&self) -> u32 {
    if self.mode == Mode::DeferTaskrun {
      IORING_ENTER_GETEVENTS
    } else {
      0
    }
  }

  /// Returns once the kernel has consumed the SQ's entries (or room appeared): submits them from
  /// this thread, even where a submitter thread would, or on an SQPOLL ring waits for its kernel
  /// thread (`IORING_ENTER_SQ_WAIT`).
  pub(crate) fn make_room(&mut self) -> io::Result<()> {
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
}
