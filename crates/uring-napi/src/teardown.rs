//! Ending a ring: cancel and drain what is in flight (bounded), release every reference, close
//! the uv handles; run by `destroy`, the finalizer and the env's cleanup hook.

use std::ffi::c_void;
use std::rc::Rc;
use std::time::Duration;

use napi::sys;

use crate::state::Cell;
use crate::{js, uv};

/// How long closing a ring (or its thread exiting) waits for cancelled ops to complete before it
/// leaks, rather than frees, whatever the kernel still holds.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Closing {
  pub(crate) remaining: u32,
  pub(crate) hook: Option<sys::napi_async_cleanup_hook_handle>,
}

pub(crate) unsafe extern "C" fn on_close(h: *mut uv::Handle) {
  let closing = uv::data(h) as *mut Closing;
  // SAFETY: libuv is done with `h`; `closing` was leaked by `destroy` for exactly two closes.
  unsafe {
    uv::free(h);
    (*closing).remaining -= 1;
    if (*closing).remaining == 0 {
      let c = Box::from_raw(closing);
      if let Some(hook) = c.hook {
        sys::napi_remove_async_cleanup_hook(hook);
      }
    }
  }
}

/// Ends a ring: cancels and drains whatever is in flight (blocking, bounded), releases every
/// reference, closes the uv handles. `hook` is set when called from the env's cleanup.
pub(crate) fn destroy(cell: &Cell, hook: Option<sys::napi_async_cleanup_hook_handle>) {
  destroy_ending(cell, hook, hook.is_some())
}

/// `destroy`, and `ending`: the thread is ending (the env's cleanup hook, or its teardown running
/// the ring's finalizer), so the fds of its open FileHandles and sockets are closed too.
pub(crate) fn destroy_ending(cell: &Cell, hook: Option<sys::napi_async_cleanup_hook_handle>, ending: bool) {
  let Some(mut st) = cell.borrow_mut().take() else {
    return;
  };
  let env = st.env;
  if st.ring.in_flight() > 0 {
    let _ = st.ring.cancel_all();
    // Ops still owned after the deadline are leaked by the ring's Drop, never freed.
    let pins = &mut st.pins;
    st.ring.drain(DRAIN_TIMEOUT, |c| {
      if let Some((_op, keep)) = c.done {
        pins.release_all(env, keep, None);
      }
    });
  }
  // References still counted on (ops the drain gave up on) are never deleted: leaked, not freed.
  st.pins.sweep(env);
  if ending {
    // The thread is ending: no JavaScript will close these. Ops on them were cancelled and
    // drained above; one the drain gave up on holds its own reference to the file, not the fd.
    for (fd, _) in st.owned_fds.drain() {
      // SAFETY: close(2) of an fd this ring's FileHandle or socket owns and never closed; it
      // touches no memory. (A fd closed behind the handle's back could have been reused: the
      // same hazard as Node's own FileHandle cleanup.)
      unsafe { libc::close(fd) };
    }
  }
  if st.ring.in_flight() > 0 {
    // Keep the completion function (and so the views) reachable for ever: leaked, not freed.
    js::set_strong(env, st.on_complete, true);
  } else {
    js::unref(env, st.on_complete);
  }
  js::unref(env, st.completions);
  if let Some((area, _)) = st.stat_area.take() {
    js::unref(env, area);
  }
  js::async_destroy(env, st.async_ctx);
  if hook.is_none() && !st.cleanup.is_null() {
    // SAFETY: the hook was registered in `new` and has not run (it would have taken the state);
    // once removed it never runs, so its Rc is ours to drop.
    unsafe {
      sys::napi_remove_async_cleanup_hook(st.cleanup);
      drop(Rc::from_raw(st.hook_arg));
    }
  }
  if let Some(h) = st.handles.take() {
    let closing = Box::into_raw(Box::new(Closing { remaining: 2, hook }));
    // SAFETY: re-point both handles' data at `closing` for `on_close`; no poll or prepare
    // callback runs for a closing handle.
    unsafe {
      *(h.poll as *mut *mut c_void) = closing.cast();
      *(h.prepare as *mut *mut c_void) = closing.cast();
      drop(Rc::from_raw(st.handle_data));
    }
    h.close(on_close);
  } else if let Some(hook) = hook {
    // SAFETY: the hook handle is live until removed, once.
    unsafe { sys::napi_remove_async_cleanup_hook(hook) };
  }
  // Dropping the state closes the ring (after its handles stopped polling its fds).
}

pub(crate) unsafe extern "C" fn on_env_cleanup(
  handle: sys::napi_async_cleanup_hook_handle,
  arg: *mut c_void,
) {
  // SAFETY: `arg` is an `Rc<Cell>` leaked in `new` for this hook, reclaimed here once.
  let cell = unsafe { Rc::from_raw(arg as *const Cell) };
  destroy(&cell, Some(handle));
}
