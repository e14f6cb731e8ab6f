//! The hot paths as raw Node-API functions bound to one ring (`NativeRing::hot`/`net_hot`):
//! read/write, send and take, without the per-call cost of a class method.

use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::{sys, Unknown};
use uring_core::{buffer_id, File, Op};

use crate::js;
use crate::keep::Keep;
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
    if let Some(token) = read_here(st, fd, buffer, offset, length, position)? {
      return Ok(token);
    }
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

/// What a 4 KiB page-cache read costs the JS thread when it makes it itself (`preadv2`; measured
/// 1.5 us on the development VM, where the kernel's CPU-vulnerability mitigations make every
/// syscall dear). The JS thread reads itself only out of time it spent waiting (see [`read_here`]).
const OWN_READ_COST: Duration = Duration::from_nanos(1500);
/// ... and only while at least this many SQEs already wait for the submitter thread.
const OWN_READ_WAITING: usize = 4;

/// A read the JS thread does itself, straight into the caller's buffer, when the ring's
/// submitter thread is the bottleneck: that thread is busy with SQEs queued behind it, while the
/// JS thread has spent time spinning for its completions (`Ring::owner_may_read`). Then, at
/// queue depth 32, this thread would otherwise wait, and the other core is the ceiling (one
/// ring's submissions are serialised by the kernel). Only reads at a position (`pread` — never
/// the file position, whose order the ring keeps) of a plain fd, with `RWF_NOWAIT`: the kernel
/// does it only from the page cache, never blocking this thread; whatever else it answers (data
/// not cached, a short read, EOF, O_DIRECT's alignment, EAGAIN, EOPNOTSUPP, an error) sends the
/// read to the ring as usual, which answers with the same bytes or error either way. The result
/// is delivered by the next reap like a CQE (`Ring::push_done`), so the promise settles in the
/// loop's turn as any other op's — never synchronously.
///
/// Ownership holds trivially: the kernel touches the caller's memory only inside this
/// synchronous call, while no JavaScript can run to detach or shrink it; nothing is copied.
fn read_here(
  st: &mut State,
  fd: File,
  buffer: sys::napi_value,
  offset: u32,
  length: u32,
  position: i64,
) -> Result<Option<u32>> {
  let File::Fd(raw) = fd else { return Ok(None) };
  if position < 0 || length == 0 || !st.ring.owner_may_read(OWN_READ_WAITING, OWN_READ_COST) {
    return Ok(None);
  }
  // Only fds of this ring's open FileHandles (whose closing the ring hears of), once seen to be
  // a regular file opened without O_DIRECT: a direct read waits for the device even under
  // RWF_NOWAIT, and that wait belongs on the submit thread's core, not the JS thread's.
  match st.owned_fds.get_mut(&raw) {
    None | Some(Some(false)) => return Ok(None),
    Some(Some(true)) => {}
    Some(known @ None) => {
      let here = plain_file(raw);
      *known = Some(here);
      if !here {
        return Ok(None);
      }
    }
  }
  let v = js::view(st.env, buffer)?;
  if offset as usize + length as usize > v.len {
    return Ok(None); // the ring's path reports it
  }
  let iov = libc::iovec {
    // SAFETY: in bounds of the view, checked above.
    iov_base: unsafe { v.data.add(offset as usize) }.cast(),
    iov_len: length as usize,
  };
  // SAFETY: writes at most `length` bytes into the caller's view, in bounds (checked above), and
  // only during this call, on the JS thread: no JavaScript runs meanwhile, so the view's memory
  // cannot be detached, shrunk or collected before the kernel is done with it.
  let n = unsafe { libc::preadv2(raw, &iov, 1, position, libc::RWF_NOWAIT) };
  if n != length as isize {
    return Ok(None);
  }
  st.own_reads += 1;
  let token = st.ring.push_done(Op::Nop, Keep::None, n as i32);
  st.sync_busy();
  Ok(Some(token))
}

/// `fd` is a regular file opened without O_DIRECT.
fn plain_file(fd: i32) -> bool {
  // SAFETY: fstat into a local and fcntl(F_GETFL): no memory of ours is touched beyond `st`.
  unsafe {
    let mut st: libc::stat = std::mem::zeroed();
    libc::fstat(fd, &mut st) == 0
      && st.st_mode & libc::S_IFMT == libc::S_IFREG
      && libc::fcntl(fd, libc::F_GETFL) & libc::O_DIRECT == 0
  }
}

/// `read(fd, buffer, offset, length, position)` and `write(...)` of one ring, as raw Node-API
/// functions bound to it (see [`NativeRing::hot`]): a class method pays for unwrapping and
/// borrow-tracking the instance on every call (measured: ~30% of a 4 KiB page-cache read).
/// Return the op's token; throw on bad arguments or a closed ring.
pub(crate) unsafe extern "C" fn raw_rw<const WRITE: bool>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 6], cell: &Cell| {
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
  };
  let usage = "expected (fd, buffer, offset, length, position)";
  // SAFETY: forwarded from Node's call.
  let token = unsafe { bound_call::<6, 5, _>(env, info, usage, body) };
  token.map_or(ptr::null_mut(), |t| js::uint32(env, t))
}

/// The body of a bound function: reads up to `N` arguments (`undefined` for those not passed)
/// and the function's data (the ring's cell), and runs `f` on them. Throws, and returns None,
/// when fewer than `MIN` were passed or `f` fails.
pub(crate) unsafe fn bound_call<const N: usize, const MIN: usize, R>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
  usage: &str,
  f: impl FnOnce(&[sys::napi_value; N], &Cell) -> Result<R>,
) -> Option<R> {
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
  // SAFETY: the function's data is the `Rc<Cell>` leaked into it by `bound`, released only by its
  // finalizer, which cannot run while the function is being called.
  let cell = unsafe { &*(data as *const Cell) };
  match f(&argv, cell) {
    Ok(r) => Some(r),
    Err(e) => {
      js::throw(env, &e.reason);
      None
    }
  }
}

/// `send(fd, buffer, offset, length, own?)` of one ring (MSG_NOSIGNAL), bound like `raw_rw`:
/// returns the op's token. `own === true`: `buffer` is the library's own copy, no user code has
/// it, so it is sent in place (see [`keep`]); else its bytes are copied into memory the op owns.
pub(crate) unsafe extern "C" fn raw_send(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 5], cell: &Cell| {
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
  };
  // SAFETY: forwarded from Node's call.
  let token = unsafe { bound_call::<5, 4, _>(env, info, "expected (fd, buffer, offset, length)", body) };
  token.map_or(ptr::null_mut(), |t| js::uint32(env, t))
}

/// `trySend(fd, buffer, offset, length)` of one ring: `send(2)` made on the JS thread with
/// MSG_DONTWAIT | MSG_NOSIGNAL, straight from the view: no copy and no op, for a socket with
/// nothing in flight on a ring whose kernel work runs on the JS thread anyway. Returns the bytes
/// sent, or -errno (-EAGAIN: the socket's buffer is full, send through the ring).
pub(crate) unsafe extern "C" fn raw_try_send(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 4], cell: &Cell| {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let offset = js::get_u32(env, argv[2], "offset")?;
    let length = js::get_u32(env, argv[3], "length")?.min(i32::MAX as u32);
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    let v = js::view(env, argv[1])?;
    crate::keep::in_bounds(&v, offset, length)?;
    // SAFETY: reads `length` bytes of the view, in bounds (checked above), only during this call,
    // on the JS thread: no JavaScript runs meanwhile, so its memory cannot be detached, shrunk or
    // collected while the kernel copies it.
    let n = unsafe {
      libc::send(
        fd,
        v.data.add(offset as usize).cast(),
        length as usize,
        libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
      )
    };
    if n < 0 {
      return Ok(
        -std::io::Error::last_os_error()
          .raw_os_error()
          .unwrap_or(libc::EIO),
      );
    }
    st.own_sends += 1;
    Ok(n as i32)
  };
  // SAFETY: forwarded from Node's call.
  let n = unsafe { bound_call::<4, 4, _>(env, info, "expected (fd, buffer, offset, length)", body) };
  n.map_or(ptr::null_mut(), |n| js::int32(env, n))
}

/// `take(group, flags, length, target)`: copies the `length` bytes a recv completion with
/// `flags` put into a provided buffer of `group` into the view `target` (JS-allocated, at least
/// `length` bytes), and gives the buffer back to the kernel.
pub(crate) unsafe extern "C" fn raw_take(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 4], cell: &Cell| {
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
  };
  // SAFETY: forwarded from Node's call.
  unsafe { bound_call::<4, 4, _>(env, info, "expected (group, flags, length, target)", body) };
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
