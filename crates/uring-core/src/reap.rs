//! Taking completions back: reaping CQEs (and the engine's own), waiting for imminent ones,
//! cancelling, and draining a ring that ends.

use std::io;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, types};

use crate::op::Op;

/// At most this much of the owner's waiting is saved up for reads it does itself.
const SLACK_MAX: Duration = Duration::from_micros(100);
use crate::executor::Executor;
use crate::job::WRITE_FILE_DONE;
use crate::ring::{Completion, Mode, Ring, INTERNAL, IORING_ENTER_GETEVENTS};

impl<T> Ring<T> {
  /// Runs deferred completion work if the kernel says some is pending (DEFER_TASKRUN,
  /// TASKRUN_FLAG) or the CQ overflowed, so that reaping finds those completions.
  pub(crate) fn run_deferred(&mut self) {
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
    if !self.local.is_empty() {
      return true;
    }
    if self.sq_thread.is_none() && !self.executor_posting() {
      return self.ready();
    }
    let t0 = Instant::now();
    let mut i = 0u32;
    let ready = loop {
      if !self.ring.completion().is_empty() {
        break true;
      }
      let thread = self
        .sq_thread
        .as_ref()
        .is_some_and(|t| t.working(self.ring.submission().is_empty()));
      if !thread && !self.executor_posting() {
        break false;
      }
      std::hint::spin_loop();
      i = i.wrapping_add(1);
      if i.is_multiple_of(32) && t0.elapsed() >= max {
        break false;
      }
    };
    self.slack = (self.slack + t0.elapsed()).min(SLACK_MAX);
    ready || self.ready()
  }

  /// Whether the executor has results to post into the CQ, which it does from its thread within
  /// microseconds (a statx each) — except on a DEFER_TASKRUN ring, where the owner's own
  /// GETEVENTS posts them, so waiting for them there would be in vain.
  fn executor_posting(&self) -> bool {
    self.mode != Mode::DeferTaskrun && self.executor.as_ref().is_some_and(Executor::busy)
  }

  /// Reaps up to `max` completions, calling `f` for each. Returns how many were reaped. An op's
  /// slot (and so its token) becomes free for reuse only here, after its final CQE.
  pub fn reap(&mut self, max: usize, mut f: impl FnMut(Completion<T>)) -> usize {
    let mut n = self.reap_local(max, &mut f);
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
        if result == WRITE_FILE_DONE {
          if let Some(ops) = self.packed.remove(&token) {
            self.unpack(ops, token);
            continue;
          }
        }
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
      n += self.reap_local(max - n, &mut f);
      if n >= max {
        return n;
      }
    }
  }

  /// Delivers up to `max` completions made without a CQE of their own (see `local`).
  fn reap_local(&mut self, max: usize, f: &mut impl FnMut(Completion<T>)) -> usize {
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
    n
  }

  /// The three results a writeFile chain's one post stood for (open 0, the write's length, close
  /// 0), as the chain's own CQEs would have said, delivered through `local` (a reap's batch has
  /// room for one completion per CQE). The executor is done with all three ops' memory.
  fn unpack(&mut self, [open, write]: [u32; 2], close: u32) {
    // Always a Write (`Work::of_chain` matched it); a bug would show as EIO, not as a panic.
    let wrote = match self.slots[write as usize].as_ref().map(|s| &s.op) {
      Some(Op::Write { len, .. }) => *len as i32,
      _ => -libc::EIO,
    };
    self.in_kernel -= 3;
    self.local.extend([(open, 0), (write, wrote), (close, 0)]);
  }

  pub(crate) fn release(&mut self, token: u32) -> (Op, T) {
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
  pub(crate) fn push_internal(&mut self, entry: &io_uring::squeue::Entry) -> io::Result<()> {
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
