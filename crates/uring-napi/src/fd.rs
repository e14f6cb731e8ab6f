//! File-descriptor syscalls outside any ring.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::js;

/// `dup3(fd, onto, O_CLOEXEC)`, synchronous: `onto` (open, and the caller's) becomes another
/// descriptor of `fd`'s open file, sharing its offset and status flags; what `onto` named before is
/// closed. Used to give a FileHandle's file to a Node FileHandle for a worker transfer
/// (`uring/register`). Throws an Error with `errno`.
#[napi]
pub fn dup_onto(env: Env, fd: i32, onto: i32) -> Result<()> {
  // SAFETY: a plain syscall on integers; no memory is passed.
  let r = unsafe { libc::dup3(fd, onto, libc::O_CLOEXEC) };
  if r < 0 {
    return Err(js::os_error(env.raw(), "dup3", &std::io::Error::last_os_error()));
  }
  Ok(())
}
