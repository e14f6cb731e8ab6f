//! The event-loop side: a `uv_prepare` flushes submissions before the loop may block, a
//! `uv_poll` on the ring's wake-up fd reaps completions; both run one `turn`.

use std::time::Duration;

use crate::state::Cell;
use crate::{js, uv};

/// When each batch's reactions submit ops that complete at once, one loop turn goes on
/// delivering them for at most this many batches and this many completions (about a millisecond
/// of 4 KiB reads); then it yields to the rest of the event loop (timers, sockets).
pub(crate) const TURN_ROUNDS: u32 = 16;
/// How long a turn waits, spinning, for completions a submitter thread is about to post before
/// it gives the loop back (see `Ring::wait_imminent`).
pub(crate) const IMMINENT: Duration = Duration::from_micros(20);
pub(crate) const TURN_COMPLETIONS: usize = 1024;

/// One loop turn's work: flush, then deliver completions batch by batch, then flush what their
/// promise reactions queued, so that nothing waits unsubmitted while the loop blocks.
pub(crate) fn turn(cell: &Cell, woken: bool) {
  {
    let mut b = cell.borrow_mut();
    let Some(st) = b.as_mut() else { return };
    if woken {
      st.ring.clear_wakeup();
    }
    st.flush();
  }
  let (mut rounds, mut delivered) = (0, 0);
  loop {
    let call = {
      let mut b = cell.borrow_mut();
      let Some(st) = b.as_mut() else { return };
      let mut n = st.reap_into_slots();
      // Nothing yet, but a submitter thread is inside the syscall that completes what it
      // submits: wait for that rather than sleep in the loop and be woken (see IMMINENT).
      if n == 0 && st.ring.wait_imminent(IMMINENT) {
        n = st.reap_into_slots();
      }
      if n == 0 {
        st.flush();
        st.end_turn();
        return;
      }
      (st.env, st.async_ctx, st.on_complete, n, n == st.slot_count)
    };
    // No borrow is held while JS runs: it may push ops, or close the ring.
    js::make_callback(call.0, call.1, call.2, call.3 as u32);
    let mut b = cell.borrow_mut();
    let Some(st) = b.as_mut() else { return };
    st.flush();
    rounds += 1;
    delivered += call.3;
    // Go on while the batch was full (completions already waiting), or while the ops just
    // submitted have already completed or are about to (page-cache reads complete inside the
    // submitting syscall: `wait_imminent`), within the budget.
    let budget_left = rounds < TURN_ROUNDS && delivered < TURN_COMPLETIONS;
    let go_on = budget_left && (call.4 || st.ring.wait_imminent(IMMINENT));
    if !go_on {
      st.end_turn();
      return;
    }
  }
}

pub(crate) unsafe extern "C" fn on_prepare(h: *mut uv::Handle) {
  // SAFETY: handle data is the `Rc<Cell>` leaked in `NativeRing::new`, alive until the handles close.
  turn(unsafe { &*(uv::data(h) as *const Cell) }, false);
}

pub(crate) unsafe extern "C" fn on_poll(h: *mut uv::Handle, _status: i32, _events: i32) {
  // SAFETY: as in `on_prepare`.
  turn(unsafe { &*(uv::data(h) as *const Cell) }, true);
}
