//! The hot paths as raw Node-API functions bound to one ring (`NativeRing::hot`/`net_hot`):
//! read/write, send and take, without the per-call cost of a class method.

use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi::{sys, Unknown};
use uring_core::{buffer_id, File, Op};

use crate::js;
use crate::state::{closed, position, Cell, State};

/// `read`/`write` of `length` bytes at `offset` of a JS view, at file `position` (< 0: current).
/// `direct`: a read into memory the library allocated and no user code has seen (see [`keep`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rw(
  cell: &Cell,
  write: bool,
  fd: File,
  buffer: sys::napi_value,
  offset: u32,
  length: u32,
  position: i64,
  direct: bool,
) -> Result<u32> {
  let mut b = cell.borrow_mut();
  let st = b.as_mut().ok_or_else(closed)?.live()?;
  rw_op(st, write, fd, buffer, offset, length, position, direct)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn rw_op(
  st: &mut State,
  write: bool,
  fd: File,
  buffer: sys::napi_value,
  offset: u32,
  length: u32,
  position: i64,
  direct: bool,
) -> Result<u32> {
  let env = st.env;
  let at = self::position(position);
  let (op, keep) = if write {
    let (buf, keep) = st.pins.source(env, buffer, offset, length, false)?;
    let op = match keep.fixed() {
      Some(index) => Op::WriteFixed {
        fd,
        buf,
        len: length,
        offset: at,
        index,
      },
      None => Op::Write {
        fd,
        buf,
        len: length,
        offset: at,
      },
    };
    (op, keep)
  } else {
    let (buf, keep) = st.pins.dest(env, buffer, offset, length, direct)?;
    let op = match keep.fixed() {
      Some(index) => Op::ReadFixed {
        fd,
        buf,
        len: length,
        offset: at,
        index,
      },
      None => Op::Read {
        fd,
        buf,
        len: length,
        offset: at,
      },
    };
    (op, keep)
  };
  if keep.fixed().is_some() {
    st.fixed_ops += 1;
  }
  Ok(st.push(op, keep))
}

/// `read(fd, buffer, offset, length, position)` and `write(...)` of one ring, as raw Node-API
/// functions bound to it (see [`NativeRing::hot`]): a class method pays for unwrapping and
/// borrow-tracking the instance on every call (measured: ~30% of a 4 KiB page-cache read).
/// Return the op's token; throw on bad arguments or a closed ring.
pub(crate) unsafe extern "C" fn raw_rw<const WRITE: bool>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<6, 5>(env, info, "expected (fd, buffer, offset, length, position)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: the function's data is the `Rc<Cell>` leaked into it by `bound`, released only by its
  // finalizer, which cannot run while the function is being called.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<u32> {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let offset = js::get_u32(env, argv[2], "offset")?;
    let length = js::get_u32(env, argv[3], "length")?;
    let position = js::get_i64(env, argv[4], "position")?;
    // A 6th argument `true`: a direct read (library memory no user code has seen yet).
    let direct = !WRITE && js::is_true(env, argv[5]);
    rw(
      cell,
      WRITE,
      File::Fd(fd),
      argv[1],
      offset,
      length,
      position,
      direct,
    )
  })();
  match result {
    Ok(token) => js::uint32(env, token),
    Err(e) => {
      js::throw(env, &e.reason);
      ptr::null_mut()
    }
  }
}

/// Reads the arguments of a bound function: up to `N` values (`undefined` for those not passed)
/// and the function's data (the ring's cell). Throws (returns None) when fewer than `MIN` were passed.
pub(crate) unsafe fn bound_args<const N: usize, const MIN: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
  usage: &str,
) -> Option<([sys::napi_value; N], *const Cell)> {
  let mut argc = N;
  let mut argv = [ptr::null_mut(); N];
  let mut data = ptr::null_mut();
  // SAFETY: called by Node with a valid env and callback info; argv has room for `argc` values.
  let s = unsafe {
    sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    )
  };
  if s != sys::Status::napi_ok || argc < MIN {
    js::throw(env, usage);
    return None;
  }
  Some((argv, data as *const Cell))
}

/// `send(fd, buffer, offset, length, own?)` of one ring (MSG_NOSIGNAL), bound like `raw_rw`:
/// returns the op's token. `own === true`: `buffer` is the library's own copy, no user code has
/// it, so it is sent in place (see [`keep`]); else its bytes are copied into memory the op owns.
pub(crate) unsafe extern "C" fn raw_send(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<5, 4>(env, info, "expected (fd, buffer, offset, length)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: the function's data is the `Rc<Cell>` leaked into it by `bound`, released only by its
  // finalizer, which cannot run while the function is being called.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<u32> {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let offset = js::get_u32(env, argv[2], "offset")?;
    let length = js::get_u32(env, argv[3], "length")?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    let (buf, keep) = st
      .pins
      .source(env, argv[1], offset, length, js::is_true(env, argv[4]))?;
    Ok(st.push(
      Op::Send {
        fd,
        buf,
        len: length,
        zerocopy: false,
      },
      keep,
    ))
  })();
  match result {
    Ok(token) => js::uint32(env, token),
    Err(e) => {
      js::throw(env, &e.reason);
      ptr::null_mut()
    }
  }
}

/// `take(group, flags, length, target)`: copies the `length` bytes a recv completion with
/// `flags` put into a provided buffer of `group` into the view `target` (JS-allocated, at least
/// `length` bytes), and gives the buffer back to the kernel.
pub(crate) unsafe extern "C" fn raw_take(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<4, 4>(env, info, "expected (group, flags, length, target)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: as in `raw_send`.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<()> {
    let group = u16::try_from(js::get_u32(env, argv[0], "group")?)
      .map_err(|_| Error::new(Status::InvalidArg, "group must fit in 16 bits"))?;
    let flags = js::get_u32(env, argv[1], "flags")?;
    let len = js::get_u32(env, argv[2], "length")? as usize;
    let bid =
      buffer_id(flags).ok_or_else(|| Error::new(Status::InvalidArg, "the completion names no buffer"))?;
    let target = js::view(env, argv[3])?;
    if target.len < len {
      return Err(Error::new(Status::InvalidArg, "target too small"));
    }
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?;
    let bytes = st
      .ring
      .buffer(group, bid, len)
      .ok_or_else(|| Error::new(Status::InvalidArg, "no such buffer"))?;
    // SAFETY: `target` is a live view of at least `len` bytes (checked), owned by JS memory the
    // kernel does not touch; `bytes` is ring memory; they cannot overlap. No JS runs meanwhile.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), target.data, len) };
    st.ring.recycle_buffer(group, bid);
    Ok(())
  })();
  if let Err(e) = result {
    js::throw(env, &e.reason);
  }
  ptr::null_mut()
}

pub(crate) unsafe extern "C" fn drop_cell(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: `data` is the `Rc<Cell>` leaked by `bound` for one function; its finalizer runs
  // once, on the JS thread.
  drop(unsafe { Rc::from_raw(data as *const Cell) });
}

/// A native function whose data is a strong `Rc` of the ring's cell, dropped by its finalizer.
pub(crate) fn bound<'a>(
  env: sys::napi_env,
  name: &std::ffi::CStr,
  cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
  cell: &Rc<Cell>,
) -> Result<Unknown<'a>> {
  let data = Rc::into_raw(cell.clone()) as *mut c_void;
  match js::function(env, name, cb, data, drop_cell) {
    // SAFETY: a live value of this env, returned to JS before the call's handle scope closes.
    Ok(f) => Ok(unsafe { Unknown::from_raw_unchecked(env, f) }),
    Err(e) => {
      // SAFETY: no finalizer was attached, so the Rc is still ours.
      unsafe { drop(Rc::from_raw(data as *const Cell)) };
      Err(e)
    }
  }
}
