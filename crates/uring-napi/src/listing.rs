//! readdir: a directory's entries read by the ring's executor (`uring_core::listing`; no io_uring
//! opcode reads a directory), kept by the reap in the ring's state under the op's token, and taken
//! by JavaScript right after the op settled, as names (strings or Buffers) and Node's
//! `UV_DIRENT_*` types.

use napi::bindgen_prelude::*;
use napi::{sys, JsValue, Unknown};
use napi_derive::napi;
use uring_core::{ListingCell, Op, AT_FDCWD};

use crate::js;
use crate::native_ring::NativeRing;

/// libuv's `uv_dirent_type_t` for a `d_type` (`UV_DIRENT_UNKNOWN`, 0, where the file system
/// does not say: the caller then asks lstat, as Node does).
fn uv_type(d_type: u8) -> u8 {
  match d_type {
    libc::DT_REG => 1,
    libc::DT_DIR => 2,
    libc::DT_LNK => 3,
    libc::DT_FIFO => 4,
    libc::DT_SOCK => 5,
    libc::DT_CHR => 6,
    libc::DT_BLK => 7,
    _ => 0,
  }
}

fn check(status: sys::napi_status) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(
      Status::GenericFailure,
      "could not make the listing's values",
    ))
  }
}

#[napi]
impl NativeRing {
  /// `readdir(path) => token`: the entries of directory `path`, run by the ring's executor; the
  /// op completes with their count, and `takeListing(token)` hands them over. Only where
  /// `supportedOps` has `readdir` (a ring with an executor).
  #[napi(ts_args_type = "path: string | Buffer")]
  pub fn readdir(&self, path: Unknown) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::Readdir {
      dirfd: AT_FDCWD,
      path,
      out: ListingCell::new(),
    })
  }

  /// `[names, types]` of the readdir op `token` that completed with a count (taken once; call it
  /// before the next reap, in the op's settling): names sorted byte by byte, as strings (UTF-8,
  /// invalid sequences replaced, as Node's) or, with `buffers`, as Buffers; `types[i]` is
  /// `names[i]`'s `UV_DIRENT_*` type.
  #[napi(ts_return_type = "[string[] | Buffer[], Uint8Array]")]
  pub fn take_listing(&self, token: u32, buffers: bool) -> Result<Unknown<'_>> {
    let env = self.env;
    let listing = self.with(|st| {
      st.listings
        .remove(&token)
        .ok_or_else(|| Error::new(Status::InvalidArg, "no listing for this token"))
    })?;
    let n = listing.entries.len();
    let mut names = std::ptr::null_mut();
    // SAFETY (each call): raw Node-API calls on this thread's env with live out-pointers; the
    // bytes passed are the listing's, alive for the call, and are copied by the callee.
    unsafe {
      check(sys::napi_create_array_with_length(env, n, &mut names))?;
      for i in 0..n {
        let name = listing.name(i);
        let mut v = std::ptr::null_mut();
        if buffers {
          let mut data = std::ptr::null_mut();
          check(sys::napi_create_buffer_copy(
            env,
            name.len(),
            name.as_ptr().cast(),
            &mut data,
            &mut v,
          ))?;
        } else {
          check(sys::napi_create_string_utf8(
            env,
            name.as_ptr().cast(),
            name.len() as isize,
            &mut v,
          ))?;
        }
        check(sys::napi_set_element(env, names, i as u32, v))?;
      }
      let types: Vec<u8> = listing.entries.iter().map(|e| uv_type(e.2)).collect();
      let (mut data, mut tv) = (std::ptr::null_mut(), std::ptr::null_mut());
      check(sys::napi_create_buffer_copy(
        env,
        n,
        types.as_ptr().cast(),
        &mut data,
        &mut tv,
      ))?;
      let mut pair = std::ptr::null_mut();
      check(sys::napi_create_array_with_length(env, 2, &mut pair))?;
      check(sys::napi_set_element(env, pair, 0, names))?;
      check(sys::napi_set_element(env, pair, 1, tv))?;
      Ok(Unknown::from_raw_unchecked(env, pair))
    }
  }
}
