//! STATX: into memory of the op's own, copied at completion into the ring's stat area — a
//! JS-allocated Uint8Array of 256 bytes per completion slot, read by the settling loop at the
//! completion's index before the next reap — so a stat allocates nothing on the JS heap and
//! holds no reference to JS memory while in flight.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue, Unknown};
use napi_derive::napi;
use uring_core::{Op, AT_FDCWD};

use crate::chunk::SMALL;
use crate::hot::{bound, bound_call};
use crate::js;
use crate::keep::{Keep, To};
use crate::native_ring::NativeRing;
use crate::state::{closed, Cell, STATX_SIZE};

// A statx buffer is a small chunk.
const _: () = assert!(STATX_SIZE <= SMALL);

#[napi]
impl NativeRing {
  /// Sets the stat area: `area` (at least 256 bytes per completion slot) receives, at offset
  /// `256 * i`, the `struct statx` of the `i`-th completion of a reap, when it is a `statx`.
  #[napi(ts_args_type = "area: Uint8Array")]
  pub fn stat_area(&self, area: Unknown) -> Result<()> {
    self.with(|st| {
      let v = js::view(st.env, area.raw())?;
      if v.len < st.slot_count * STATX_SIZE {
        return Err(Error::new(Status::InvalidArg, "stat area too small"));
      }
      // Held strongly for the ring's life: `stat_area` points into it.
      let held = js::strong(st.env, area.raw())?;
      if let Some((old, _)) = st.stat_area.replace((held, v.data)) {
        js::unref(st.env, old);
      }
      Ok(())
    })
  }

  /// `statx(fd, path, flags, mask) => token`: a raw Node-API function bound to this ring (cheaper
  /// per call than a method, as `hot()`): `statx` of `path` relative to `fd` (the cwd when
  /// `fd < 0`; `fd >= 0` with an empty path and `AT_EMPTY_PATH` stats the fd). Its result comes
  /// in the stat area (see `statArea`).
  #[napi(ts_return_type = "(fd: number, path: string | Buffer, flags: number, mask: number) => number")]
  pub fn stat_hot(&self) -> Result<Unknown<'_>> {
    let env = self.with(|st| Ok(st.env))?;
    bound(env, c"statx", raw_statx, &self.cell)
  }
}

unsafe extern "C" fn raw_statx(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 4], cell: &Cell| {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let flags = js::get_i32(env, argv[2], "flags")?;
    let mask = js::get_u32(env, argv[3], "mask")?;
    let path = js::path(env, argv[1])?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    if st.stat_area.is_none() {
      return Err(Error::new(Status::GenericFailure, "statx before statArea"));
    }
    let mut mem = st.pins.chunks.get_small();
    let buf = mem.as_mut_ptr();
    Ok(st.push(
      Op::Statx {
        dirfd: if fd >= 0 { fd } else { AT_FDCWD },
        path,
        flags,
        mask,
        buf,
      },
      // The op's own memory: the kernel (or the executor) writes it, the reap copies it out.
      Keep::Owned { mem, to: To::Nothing },
    ))
  };
  // SAFETY: forwarded from Node's call.
  let token = unsafe { bound_call::<4, 4, _>(env, info, "expected (fd, path, flags, mask)", body) };
  token.map_or(ptr::null_mut(), |t| js::uint32(env, t))
}
