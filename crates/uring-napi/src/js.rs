//! Raw Node-API calls used on the hot path, each wrapped once. napi-rs's typed wrappers are
//! avoided here because they create threadsafe functions (promises) or may copy (buffers).

use std::ffi::{c_void, CString};
use std::ptr;

use napi::{sys, Error, Result, Status};

fn check(status: sys::napi_status, what: &str) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(Status::from(status), what.to_string()))
  }
}

/// A JS ArrayBufferView: its bytes (start pointer and byte length), the ArrayBuffer that owns
/// them, and the address where that ArrayBuffer's memory starts (its identity in [`Pins`]).
///
/// [`Pins`]: crate::keep::Pins
pub struct View {
  pub data: *mut u8,
  pub len: usize,
  pub buffer: sys::napi_value,
  pub base: usize,
  /// The memory is a SharedArrayBuffer's: it cannot be detached, nor shrunk.
  pub shared: bool,
}

/// Whether `buffer` (the buffer of a view) is a SharedArrayBuffer: a view's buffer that is not
/// an ArrayBuffer is one (V8's `IsArrayBuffer` is false for shared buffers).
fn is_shared(env: sys::napi_env, buffer: sys::napi_value) -> Result<bool> {
  let mut plain = false;
  // SAFETY: valid env and value; `plain` is a valid out-pointer.
  check(
    unsafe { sys::napi_is_arraybuffer(env, buffer, &mut plain) },
    "napi_is_arraybuffer",
  )?;
  Ok(!plain)
}

/// The memory of the ArrayBuffer `buffer` as it is now: start and byte length (null and 0 once
/// detached; the current length of a resizable one).
pub fn arraybuffer_info(env: sys::napi_env, buffer: sys::napi_value) -> (*mut u8, usize) {
  let mut data: *mut c_void = ptr::null_mut();
  let mut len = 0usize;
  // SAFETY: valid env; out-pointers are valid locals.
  let s = unsafe { sys::napi_get_arraybuffer_info(env, buffer, &mut data, &mut len) };
  if s != sys::Status::napi_ok || data.is_null() {
    return (ptr::null_mut(), 0);
  }
  (data.cast(), len)
}

/// Runs `f` inside a handle scope of its own (for Node-API calls made from a libuv callback).
pub fn with_scope<R>(env: sys::napi_env, f: impl FnOnce() -> R) -> R {
  let mut scope = ptr::null_mut();
  // SAFETY: called on the env's thread; the scope is closed below, after `f`'s handles are dead.
  unsafe { sys::napi_open_handle_scope(env, &mut scope) };
  let r = f();
  // SAFETY: the scope opened above.
  unsafe { sys::napi_close_handle_scope(env, scope) };
  r
}

/// The bytes of a TypedArray, Buffer or DataView. The pointer is into V8's backing store, which
/// does not move (Node-API moves an on-heap array's bytes off the heap when asked for them); it
/// stays valid while the ArrayBuffer is reachable and not detached.
pub fn view(env: sys::napi_env, value: sys::napi_value) -> Result<View> {
  let mut data: *mut c_void = ptr::null_mut();
  let mut len = 0usize;
  let mut kind = 0;
  let mut buffer = ptr::null_mut();
  let mut offset = 0usize;
  // SAFETY: out-pointers are valid locals; `value` is a live handle of this env.
  let s = unsafe {
    sys::napi_get_typedarray_info(
      env,
      value,
      &mut kind,
      &mut len,
      &mut data,
      &mut buffer,
      &mut offset,
    )
  };
  if s == sys::Status::napi_ok {
    let len = len * element_size(kind);
    return Ok(View {
      data: data.cast(),
      len,
      buffer,
      base: (data as usize).wrapping_sub(offset),
      shared: is_shared(env, buffer)?,
    });
  }
  // SAFETY: as above.
  let s = unsafe { sys::napi_get_dataview_info(env, value, &mut len, &mut data, &mut buffer, &mut offset) };
  check(s, "buffer must be a TypedArray, Buffer or DataView")?;
  Ok(View {
    data: data.cast(),
    len,
    buffer,
    base: (data as usize).wrapping_sub(offset),
    shared: is_shared(env, buffer)?,
  })
}

/// `a === b`.
pub fn same(env: sys::napi_env, a: sys::napi_value, b: sys::napi_value) -> bool {
  let mut eq = false;
  // SAFETY: valid env and values; `eq` is a valid out-pointer.
  let s = unsafe { sys::napi_strict_equals(env, a, b, &mut eq) };
  s == sys::Status::napi_ok && eq
}

fn element_size(kind: sys::napi_typedarray_type) -> usize {
  use sys::TypedarrayType as T;
  match kind {
    T::int8_array | T::uint8_array | T::uint8_clamped_array => 1,
    T::int16_array | T::uint16_array => 2,
    T::int32_array | T::uint32_array | T::float32_array => 4,
    _ => 8,
  }
}

/// A strong reference: keeps `value` (and so its backing store) alive until [`unref`].
pub fn strong(env: sys::napi_env, value: sys::napi_value) -> Result<sys::napi_ref> {
  let mut r = ptr::null_mut();
  // SAFETY: valid env and value; `r` is a valid out-pointer.
  check(
    unsafe { sys::napi_create_reference(env, value, 1, &mut r) },
    "napi_create_reference",
  )?;
  Ok(r)
}

/// Deletes a reference made by [`strong`] or [`weak`]. Must run on the env's thread.
pub fn unref(env: sys::napi_env, r: sys::napi_ref) {
  // SAFETY: `r` was created in `env` and is deleted exactly once by its owner.
  unsafe { sys::napi_delete_reference(env, r) };
}

/// Makes a reference strong (`on`) or weak: a weak one lets GC collect the value.
pub fn set_strong(env: sys::napi_env, r: sys::napi_ref, on: bool) {
  let mut count = 0;
  // SAFETY: `r` is a live reference of `env`; counts only move between 0 and 1.
  unsafe {
    if on {
      sys::napi_reference_ref(env, r, &mut count)
    } else {
      sys::napi_reference_unref(env, r, &mut count)
    }
  };
}

pub fn get(env: sys::napi_env, r: sys::napi_ref) -> sys::napi_value {
  let mut v = ptr::null_mut();
  // SAFETY: `r` is a live reference of `env`.
  unsafe { sys::napi_get_reference_value(env, r, &mut v) };
  v
}

/// A path argument: a JS string (UTF-8) or the bytes of a Uint8Array. Rejects NUL bytes.
pub fn path(env: sys::napi_env, value: sys::napi_value) -> Result<CString> {
  // Most paths fit here: one call copies them (no call for the length first, no zeroed buffer).
  let mut stack = [0u8; 512];
  let mut len = 0usize;
  // SAFETY: `stack` has room for `stack.len()` bytes, the terminating NUL included.
  let s =
    unsafe { sys::napi_get_value_string_utf8(env, value, stack.as_mut_ptr().cast(), stack.len(), &mut len) };
  // A string cut short stops at most 4 bytes (one character) before the end: with more room
  // left than that, the whole string was copied.
  let bytes = if s == sys::Status::napi_ok && len + 5 < stack.len() {
    // With room for the NUL that CString::new adds.
    let mut v = Vec::with_capacity(len + 1);
    v.extend_from_slice(&stack[..len]);
    v
  } else if s == sys::Status::napi_ok {
    // SAFETY: a null buffer asks only for the length.
    check(
      unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) },
      "path",
    )?;
    let mut buf = vec![0u8; len + 1];
    // SAFETY: `buf` has room for `len` bytes and the terminating NUL.
    check(
      unsafe { sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), len + 1, &mut len) },
      "path",
    )?;
    buf.truncate(len);
    buf
  } else {
    let v =
      view(env, value).map_err(|_| Error::new(Status::InvalidArg, "path must be a string or Uint8Array"))?;
    if v.len == 0 {
      Vec::new()
    } else {
      // SAFETY: `view` returned the view's live bytes; copied before any JS runs.
      unsafe { std::slice::from_raw_parts(v.data, v.len) }.to_vec()
    }
  };
  CString::new(bytes).map_err(|_| Error::new(Status::InvalidArg, "path must not contain null bytes"))
}

/// Calls `func(arg)` as Node calls into JS from the event loop: inside a handle scope and a
/// callback scope, so promise reactions queued by `func` run before this returns. An exception
/// thrown by `func` goes to `process.on('uncaughtException')`, as for any event-loop callback.
pub fn make_callback(env: sys::napi_env, ctx: sys::napi_async_context, func: sys::napi_ref, arg: u32) {
  // SAFETY: called on the env's thread from a libuv callback, with no JS on the stack; every
  // handle is created and used inside the scope opened here.
  unsafe {
    let mut scope = ptr::null_mut();
    sys::napi_open_handle_scope(env, &mut scope);
    let f = get(env, func);
    if f.is_null() {
      // The callback was collected: the JS side must keep it alive as long as the ring (it is
      // held weakly while idle). Nothing to deliver to; the completions stay counted in stats.
      sys::napi_close_handle_scope(env, scope);
      debug_assert!(false, "uring: completion callback was garbage-collected");
      return;
    }
    let mut recv = ptr::null_mut();
    sys::napi_get_global(env, &mut recv);
    let mut n = ptr::null_mut();
    sys::napi_create_uint32(env, arg, &mut n);
    let mut result = ptr::null_mut();
    let s = sys::napi_make_callback(env, ctx, recv, f, 1, &n, &mut result);
    if s == sys::Status::napi_pending_exception {
      let mut err = ptr::null_mut();
      sys::napi_get_and_clear_last_exception(env, &mut err);
      sys::napi_fatal_exception(env, err);
    }
    sys::napi_close_handle_scope(env, scope);
  }
}

/// An async context for [`make_callback`] (async_hooks see our completions as `uring`).
pub fn async_context(env: sys::napi_env) -> Result<sys::napi_async_context> {
  let mut name = ptr::null_mut();
  let mut ctx = ptr::null_mut();
  // SAFETY: valid env; the name string is created in the caller's handle scope.
  unsafe {
    check(
      sys::napi_create_string_utf8(env, c"uring".as_ptr(), 5, &mut name),
      "name",
    )?;
    let mut resource = ptr::null_mut();
    check(sys::napi_create_object(env, &mut resource), "resource")?;
    check(
      sys::napi_async_init(env, resource, name, &mut ctx),
      "napi_async_init",
    )?;
  }
  Ok(ctx)
}

pub fn async_destroy(env: sys::napi_env, ctx: sys::napi_async_context) {
  // SAFETY: `ctx` was made by `async_context` in `env` and is destroyed once.
  unsafe { sys::napi_async_destroy(env, ctx) };
}

pub fn uv_loop(env: sys::napi_env) -> Result<*mut c_void> {
  let mut lp = ptr::null_mut();
  // SAFETY: valid env and out-pointer.
  check(
    unsafe { sys::napi_get_uv_event_loop(env, &mut lp) },
    "napi_get_uv_event_loop",
  )?;
  Ok(lp.cast())
}

/// A number argument as u32 (Node-API's conversion: truncates, wraps negatives).
pub fn get_u32(env: sys::napi_env, v: sys::napi_value, what: &str) -> Result<u32> {
  let mut out = 0u32;
  // SAFETY: valid env and value; `out` is a valid out-pointer.
  check(unsafe { sys::napi_get_value_uint32(env, v, &mut out) }, what)?;
  Ok(out)
}

pub fn get_i32(env: sys::napi_env, v: sys::napi_value, what: &str) -> Result<i32> {
  let mut out = 0i32;
  // SAFETY: as in `get_u32`.
  check(unsafe { sys::napi_get_value_int32(env, v, &mut out) }, what)?;
  Ok(out)
}

pub fn get_i64(env: sys::napi_env, v: sys::napi_value, what: &str) -> Result<i64> {
  let mut out = 0i64;
  // SAFETY: as in `get_u32`.
  check(unsafe { sys::napi_get_value_int64(env, v, &mut out) }, what)?;
  Ok(out)
}

/// `v === true` (false for anything else, `undefined` included).
pub fn is_true(env: sys::napi_env, v: sys::napi_value) -> bool {
  let mut out = false;
  // SAFETY: as in `get_u32`; a non-boolean fails and leaves `out` false.
  let s = unsafe { sys::napi_get_value_bool(env, v, &mut out) };
  s == sys::Status::napi_ok && out
}

pub fn int32(env: sys::napi_env, n: i32) -> sys::napi_value {
  let mut v = ptr::null_mut();
  // SAFETY: valid env; `v` is a valid out-pointer.
  unsafe { sys::napi_create_int32(env, n, &mut v) };
  v
}

pub fn uint32(env: sys::napi_env, n: u32) -> sys::napi_value {
  let mut v = ptr::null_mut();
  // SAFETY: valid env; `v` is a valid out-pointer.
  unsafe { sys::napi_create_uint32(env, n, &mut v) };
  v
}

/// A failed system call, as the error a `#[napi]` function returns: a JS `Error` whose `errno`
/// (negative, as Node reports it) and `syscall` are properties, so the TypeScript layer reads
/// them instead of parsing the message. The message is `"{syscall}: {e}"`.
pub fn os_error(env: sys::napi_env, syscall: &str, e: &std::io::Error) -> Error {
  let errno = -e.raw_os_error().unwrap_or(libc::EIO);
  let build = || -> Result<sys::napi_value> {
    let text = format!("{syscall}: {e}");
    let mut msg = ptr::null_mut();
    let mut err = ptr::null_mut();
    let mut num = ptr::null_mut();
    let mut name = ptr::null_mut();
    // SAFETY: valid env; every out-pointer is a live local; strings are passed with their length.
    unsafe {
      check(
        sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut msg),
        "napi_create_string_utf8",
      )?;
      check(
        sys::napi_create_error(env, ptr::null_mut(), msg, &mut err),
        "napi_create_error",
      )?;
      check(sys::napi_create_int32(env, errno, &mut num), "napi_create_int32")?;
      check(
        sys::napi_set_named_property(env, err, c"errno".as_ptr(), num),
        "napi_set_named_property",
      )?;
      check(
        sys::napi_create_string_utf8(env, syscall.as_ptr().cast(), syscall.len() as isize, &mut name),
        "napi_create_string_utf8",
      )?;
      check(
        sys::napi_set_named_property(env, err, c"syscall".as_ptr(), name),
        "napi_set_named_property",
      )?;
    }
    Ok(err)
  };
  match build() {
    // SAFETY: a live value of this env, thrown before the call returns to JS.
    Ok(err) => Error::from(unsafe { napi::Unknown::from_raw_unchecked(env, err) }),
    Err(_) => Error::new(Status::GenericFailure, format!("{syscall}: {e}")),
  }
}

/// Throws a JS `Error` with `message` (the caller then returns null to JS).
pub fn throw(env: sys::napi_env, message: &str) {
  let msg = CString::new(message.replace('\0', " ")).unwrap_or_default();
  // SAFETY: valid env and NUL-terminated message.
  unsafe { sys::napi_throw_error(env, ptr::null(), msg.as_ptr()) };
}

/// A native function with `data` (read back through `napi_get_cb_info`), and `finalize` run
/// with `data` when the function is collected. On error nothing was attached to `data`.
pub fn function(
  env: sys::napi_env,
  name: &std::ffi::CStr,
  cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
  data: *mut c_void,
  finalize: unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void),
) -> Result<sys::napi_value> {
  let mut f = ptr::null_mut();
  // SAFETY: valid env; `name` is NUL-terminated; `cb` and `finalize` are valid Node-API callbacks.
  unsafe {
    check(
      sys::napi_create_function(
        env,
        name.as_ptr(),
        name.to_bytes().len() as isize,
        Some(cb),
        data,
        &mut f,
      ),
      "napi_create_function",
    )?;
    check(
      sys::napi_add_finalizer(env, f, data, Some(finalize), ptr::null_mut(), ptr::null_mut()),
      "napi_add_finalizer",
    )?;
  }
  Ok(f)
}
