//! libuv, reached through the host's own symbols (Node and Electron export them) resolved at run
//! time: linking a libuv of our own would give us a second, unrelated event loop.
//!
//! Two handles per ring: a `uv_prepare` that flushes submissions once per loop turn, right before
//! the loop may block, and a `uv_poll` on the ring's wake-up fd that reaps completions.

use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

pub type Loop = c_void;
pub type Handle = c_void;
pub type PollCb = unsafe extern "C" fn(*mut Handle, c_int, c_int);
pub type PrepareCb = unsafe extern "C" fn(*mut Handle);
pub type CloseCb = unsafe extern "C" fn(*mut Handle);

const UV_POLL: c_int = 8;
const UV_PREPARE: c_int = 9;
pub const UV_READABLE: c_int = 1;

struct Api {
  handle_size: unsafe extern "C" fn(c_int) -> usize,
  poll_init: unsafe extern "C" fn(*mut Loop, *mut Handle, c_int) -> c_int,
  poll_start: unsafe extern "C" fn(*mut Handle, c_int, PollCb) -> c_int,
  prepare_init: unsafe extern "C" fn(*mut Loop, *mut Handle) -> c_int,
  prepare_start: unsafe extern "C" fn(*mut Handle, PrepareCb) -> c_int,
  close: unsafe extern "C" fn(*mut Handle, Option<CloseCb>),
  ref_: unsafe extern "C" fn(*mut Handle),
  unref: unsafe extern "C" fn(*mut Handle),
}

fn api() -> Result<&'static Api, String> {
  static API: OnceLock<Result<Api, String>> = OnceLock::new();
  API
    .get_or_init(|| {
      fn sym(name: &CStr) -> Result<*mut c_void, String> {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks a symbol up.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        if p.is_null() {
          Err(format!(
            "libuv symbol {} not found in this process",
            name.to_string_lossy()
          ))
        } else {
          Ok(p)
        }
      }
      // SAFETY: each symbol is libuv's public function of that name; the signatures below are
      // libuv's (uv.h, stable across 1.x). Each target type is its `Api` field's type.
      #[allow(clippy::missing_transmute_annotations)]
      unsafe {
        Ok(Api {
          handle_size: std::mem::transmute::<*mut c_void, _>(sym(c"uv_handle_size")?),
          poll_init: std::mem::transmute::<*mut c_void, _>(sym(c"uv_poll_init")?),
          poll_start: std::mem::transmute::<*mut c_void, _>(sym(c"uv_poll_start")?),
          prepare_init: std::mem::transmute::<*mut c_void, _>(sym(c"uv_prepare_init")?),
          prepare_start: std::mem::transmute::<*mut c_void, _>(sym(c"uv_prepare_start")?),
          close: std::mem::transmute::<*mut c_void, _>(sym(c"uv_close")?),
          ref_: std::mem::transmute::<*mut c_void, _>(sym(c"uv_ref")?),
          unref: std::mem::transmute::<*mut c_void, _>(sym(c"uv_unref")?),
        })
      }
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A prepare handle and a poll handle, both carrying `data` (libuv's `handle->data`, the first
/// field of every handle). Memory is malloc'd and freed by [`close_cb`] after libuv is done.
pub struct Handles {
  pub poll: *mut Handle,
  pub prepare: *mut Handle,
  referenced: bool,
}

fn alloc(size: usize, data: *mut c_void) -> *mut Handle {
  // SAFETY: calloc returns zeroed memory aligned for any type, or null (checked).
  let h = unsafe { libc::calloc(1, size) };
  assert!(!h.is_null(), "out of memory");
  // SAFETY: `data` is the first field (a pointer) of every uv handle.
  unsafe { *(h as *mut *mut c_void) = data };
  h
}

pub fn data(h: *mut Handle) -> *mut c_void {
  // SAFETY: `h` is one of our live handles; `data` is its first field.
  unsafe { *(h as *mut *mut c_void) }
}

impl Handles {
  /// Starts both handles on `lp`, unreferenced: an idle ring never keeps the loop alive.
  /// `data` is stored in both and handed back to `close_cb` twice (once per handle).
  pub fn start(
    lp: *mut Loop,
    fd: c_int,
    data: *mut c_void,
    on_poll: PollCb,
    on_prepare: PrepareCb,
  ) -> Result<Handles, String> {
    let uv = api()?;
    // SAFETY: handles are sized by libuv itself, initialised before use, and only closed by
    // `close`; `lp` is the env's live loop.
    unsafe {
      let poll = alloc((uv.handle_size)(UV_POLL), data);
      let prepare = alloc((uv.handle_size)(UV_PREPARE), data);
      let r = (uv.poll_init)(lp, poll, fd);
      if r != 0 {
        libc::free(poll);
        libc::free(prepare);
        return Err(format!("uv_poll_init failed ({r})"));
      }
      (uv.prepare_init)(lp, prepare);
      // Re-store data: init functions zero the handle fields after `data`, but be explicit.
      *(poll as *mut *mut c_void) = data;
      *(prepare as *mut *mut c_void) = data;
      (uv.poll_start)(poll, UV_READABLE, on_poll);
      (uv.prepare_start)(prepare, on_prepare);
      (uv.unref)(poll);
      (uv.unref)(prepare);
      Ok(Handles {
        poll,
        prepare,
        referenced: false,
      })
    }
  }

  /// Keeps the loop alive (while ops are in flight) or lets it exit (when none are).
  pub fn set_referenced(&mut self, on: bool) {
    if on == self.referenced {
      return;
    }
    self.referenced = on;
    let uv = api().expect("resolved at start");
    // SAFETY: `poll` is a live, started handle.
    unsafe {
      if on {
        (uv.ref_)(self.poll)
      } else {
        (uv.unref)(self.poll)
      }
    }
  }

  /// Closes both handles; `close_cb` runs for each once libuv lets go of it, and must free it.
  pub fn close(self, close_cb: CloseCb) {
    let uv = api().expect("resolved at start");
    // SAFETY: both handles are live and closed exactly once (`self` is consumed).
    unsafe {
      (uv.close)(self.poll, Some(close_cb));
      (uv.close)(self.prepare, Some(close_cb));
    }
  }
}

/// Frees a handle's memory (for use inside a close callback).
///
/// # Safety
/// `h` came from [`Handles::start`] and libuv has finished closing it.
pub unsafe fn free(h: *mut Handle) {
  libc::free(h)
}
