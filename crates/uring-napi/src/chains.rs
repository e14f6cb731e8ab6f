//! Chains (`IOSQE_IO_LINK`) and the registered file table's slots: readFile and writeFile as one
//! chain of open, read/write and close on a direct descriptor.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue, Unknown};
use napi_derive::napi;
use uring_core::{File, Op, AT_FDCWD};

use crate::hot::{bound, bound_call, rw_op};
use crate::js;
use crate::keep::Keep;
use crate::native_ring::NativeRing;
use crate::state::{closed, Cell};

#[napi]
impl NativeRing {
  /// Links the ops pushed from now on, each to the next, until `endChain()` (see
  /// `Ring::begin_chain`): none is submitted before the chain is ended.
  #[napi]
  pub fn begin_chain(&self) -> Result<()> {
    self.with(|st| {
      st.ring.begin_chain();
      Ok(())
    })
  }

  /// Ends the chain: its ops go to the kernel together. Throws (and cancels them) if the chain
  /// is longer than the submission queue.
  #[napi]
  pub fn end_chain(&self) -> Result<()> {
    self.with(Self::end)
  }

  /// Ends the chain without running it: the ops pushed since `beginChain()` complete with
  /// -ECANCELED.
  #[napi]
  pub fn abort_chain(&self) -> Result<()> {
    self.with(|st| {
      st.ring.abort_chain();
      Ok(())
    })
  }

  /// `read` of a file-table slot (see `files`); `position < 0`: the slot's file position.
  /// `direct`: into memory the library allocated and no user code has seen (see [`keep`]).
  #[napi(
    ts_args_type = "slot: number, buffer: ArrayBufferView, offset: number, length: number, position: number, direct?: boolean"
  )]
  pub fn read_slot(
    &self,
    slot: u32,
    buffer: Unknown,
    offset: u32,
    length: u32,
    position: i64,
    direct: Option<bool>,
  ) -> Result<u32> {
    self.with(|st| {
      rw_op(
        st,
        false,
        File::Fixed(slot),
        buffer.raw(),
        offset,
        length,
        position,
        direct.unwrap_or(false),
      )
    })
  }

  /// `write` to a file-table slot.
  #[napi(
    ts_args_type = "slot: number, buffer: ArrayBufferView, offset: number, length: number, position: number"
  )]
  pub fn write_slot(
    &self,
    slot: u32,
    buffer: Unknown,
    offset: u32,
    length: u32,
    position: i64,
  ) -> Result<u32> {
    self.with(|st| {
      rw_op(
        st,
        true,
        File::Fixed(slot),
        buffer.raw(),
        offset,
        length,
        position,
        false,
      )
    })
  }

  /// `[readFileChain, closeSlot, writeFileChain]`, raw Node-API functions bound to this ring
  /// (cheaper per call than methods, as `hot()`): `readFileChain(path, flags, slot, first,
  /// second, out)` pushes the chain of `readFile` and writes its three tokens into the Int32Array
  /// `out`; `closeSlot(slot) => token` empties a file-table slot (closes its file);
  /// `writeFileChain(path, flags, mode, slot, buffer, offset, length, out)` pushes the chain of
  /// `writeFile` and writes its three tokens into `out`.
  #[napi(
    ts_return_type = "[(path: string | Buffer, flags: number, slot: number, first: Buffer, second: Buffer, out: Int32Array) => void, (slot: number) => number, (path: string | Buffer, flags: number, mode: number, slot: number, buffer: ArrayBufferView, offset: number, length: number, out: Int32Array) => void]"
  )]
  pub fn chain_hot(&self) -> Result<Vec<Unknown<'_>>> {
    let env = self.with(|st| Ok(st.env))?;
    Ok(vec![
      bound(env, c"readFileChain", raw_read_file_chain, &self.cell)?,
      bound(env, c"closeSlot", raw_close_slot, &self.cell)?,
      bound(env, c"writeFileChain", raw_write_file_chain, &self.cell)?,
    ])
  }
}

/// The Int32Array `value` that a chain's three tokens go into (checked to hold them).
fn tokens_out(env: sys::napi_env, value: sys::napi_value) -> Result<js::View> {
  let out = js::view(env, value)?;
  if out.len < 12 {
    return Err(Error::new(Status::InvalidArg, "out must hold three tokens"));
  }
  Ok(out)
}

/// Writes a chain's three tokens into `out` (from [`tokens_out`]).
///
/// # Safety
/// `out` is still live: no JS has run since it was read.
unsafe fn write_tokens(out: &js::View, tokens: [u32; 3]) {
  let p = out.data.cast::<i32>();
  for (i, t) in tokens.into_iter().enumerate() {
    // SAFETY: `out` is a live Int32Array view of at least 12 bytes (`tokens_out`), aligned as
    // any Int32Array.
    unsafe { p.add(i).write(t as i32) };
  }
}

/// The chain of `readFile`: open `path` into `slot` → read into `first` → read into `second`,
/// both at the file position. The second read is hard-linked (it runs even though the first
/// came back short): a 0 from it proves the end of any kind of file (a pipe or a terminal can
/// return short reads long before their end) without a statx, which the kernel always hands to
/// a worker thread. Its three tokens go into `out`. The slot stays open: the caller closes it.
unsafe extern "C" fn raw_read_file_chain(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 6], cell: &Cell| {
    let path = js::path(env, argv[0])?;
    let flags = js::get_i32(env, argv[1], "flags")?;
    let slot = js::get_u32(env, argv[2], "slot")?;
    let out = tokens_out(env, argv[5])?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    NativeRing::chain_fits(st, 3)?;
    // The two buffers are the library's own pooled read buffers, never seen by user code.
    let a_len = js::view(env, argv[3])?.len;
    let b_len = js::view(env, argv[4])?.len;
    let (Ok(a_len), Ok(b_len)) = (u32::try_from(a_len), u32::try_from(b_len)) else {
      return Err(Error::new(Status::InvalidArg, "buffer too large"));
    };
    let (a, a_keep) = st.pins.dest(env, argv[3], 0, a_len, true)?;
    let (b, b_keep) = match st.pins.dest(env, argv[4], 0, b_len, true) {
      Ok(h) => h,
      Err(e) => {
        st.pins.release_all(env, a_keep, None);
        return Err(e);
      }
    };
    let at = uring_core::CURRENT_POSITION;
    st.ring.begin_chain();
    let open = st.push(
      Op::OpenAt {
        dirfd: AT_FDCWD,
        path,
        flags,
        mode: 0,
        slot: Some(slot),
      },
      Keep::None,
    );
    let first = st.push(
      Op::Read {
        fd: File::Fixed(slot),
        buf: a,
        len: a_len,
        offset: at,
      },
      a_keep,
    );
    st.ring.harden_link();
    let second = st.push(
      Op::Read {
        fd: File::Fixed(slot),
        buf: b,
        len: b_len,
        offset: at,
      },
      b_keep,
    );
    NativeRing::end(st)?;
    // SAFETY: no JS has run since `tokens_out` read `out`.
    unsafe { write_tokens(&out, [open, first, second]) };
    Ok(())
  };
  // SAFETY: forwarded from Node's call.
  unsafe {
    bound_call::<6, 6, _>(
      env,
      info,
      "expected (path, flags, slot, first, second, out)",
      body,
    )
  };
  ptr::null_mut()
}

/// The chain of `writeFile`: open `path` (`flags`, `mode`) into `slot` → write `length` bytes
/// of `buffer` from `offset` at file offset 0 (the end with O_APPEND) → close the slot; its
/// three tokens go into `out`. A short write stops the chain before the close: the caller
/// writes the rest (at explicit offsets: a short write at the file position leaves the position
/// unmoved, see `uring_core::quirks`) and closes.
unsafe extern "C" fn raw_write_file_chain(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 8], cell: &Cell| {
    let path = js::path(env, argv[0])?;
    let flags = js::get_i32(env, argv[1], "flags")?;
    let mode = js::get_u32(env, argv[2], "mode")?;
    let slot = js::get_u32(env, argv[3], "slot")?;
    let offset = js::get_u32(env, argv[5], "offset")?;
    let length = js::get_u32(env, argv[6], "length")?;
    let out = tokens_out(env, argv[7])?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    NativeRing::chain_fits(st, 3)?;
    let (buf, keep) = st.pins.source(env, argv[4], offset, length, false)?;
    st.ring.begin_chain();
    let open = st.push(
      Op::OpenAt {
        dirfd: AT_FDCWD,
        path,
        flags,
        mode,
        slot: Some(slot),
      },
      Keep::None,
    );
    let write = st.push(
      Op::Write {
        fd: File::Fixed(slot),
        buf,
        len: length,
        offset: 0,
      },
      keep,
    );
    let close = st.push(
      Op::Close {
        fd: File::Fixed(slot),
      },
      Keep::None,
    );
    NativeRing::end(st)?;
    // SAFETY: no JS has run since `tokens_out` read `out`.
    unsafe { write_tokens(&out, [open, write, close]) };
    Ok(())
  };
  // SAFETY: forwarded from Node's call.
  unsafe {
    bound_call::<8, 8, _>(
      env,
      info,
      "expected (path, flags, mode, slot, buffer, offset, length, out)",
      body,
    )
  };
  ptr::null_mut()
}

/// `closeSlot(slot) => token`: empties a file-table slot (closes its file).
unsafe extern "C" fn raw_close_slot(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let body = |argv: &[sys::napi_value; 1], cell: &Cell| {
    let slot = js::get_u32(env, argv[0], "slot")?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    Ok(st.push(
      Op::Close {
        fd: File::Fixed(slot),
      },
      Keep::None,
    ))
  };
  // SAFETY: forwarded from Node's call.
  let token = unsafe { bound_call::<1, 1, _>(env, info, "expected (slot)", body) };
  token.map_or(ptr::null_mut(), |t| js::uint32(env, t))
}
