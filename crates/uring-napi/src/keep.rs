//! What an in-flight op owns besides its `Op`: the memory the kernel reads or writes for it.
//!
//! A strong reference to a JS ArrayBuffer keeps the *object* alive, not its memory. A transfer
//! (`structuredClone(ab, { transfer: [ab] })`, a `postMessage` transfer list, `ab.transfer()`)
//! detaches the object and hands its memory to a new one, which may be collected and the memory
//! freed while the kernel still writes into it; a resizable ArrayBuffer can shrink under a read.
//! (That was this file's earlier reasoning, and `rio`'s mistake: safety resting on something user
//! code can undo.) So the kernel is pointed at JS memory only where nothing can take it away:
//!
//! - a **SharedArrayBuffer**: it cannot be detached, and a growable one only grows, in place; a
//!   strong reference keeps its memory alive. This is the zero-copy path (`ring.allocBuffer`).
//! - memory **the library allocated itself that no user code has seen yet** (readFile results,
//!   read stream chunks, statx output): `direct` reads, which only the TypeScript layer makes.
//!
//! Every other buffer goes through memory the op owns ([`Keep::Owned`]): a write's bytes are
//! copied into it before the op is pushed (later changes to the JS buffer, or its detaching,
//! cannot reach the kernel); a read lands in it and is copied out after its final completion, on
//! the JS thread, into the JS buffer *as it is then* — not at all if it was detached, and never
//! past its current end. One copy per op, through a [`Chunk`] (pooled, page-aligned, registered
//! with the ring where the kernel allows: see `chunk.rs`).
//!
//! References to ArrayBuffers are shared ([`Pins`]: one per ArrayBuffer, counted per op), because
//! making and deleting one per op cost a tenth of a page-cache read; a count that drops to zero
//! deletes the reference at the end of the loop turn ([`Pins::sweep`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ptr;

use napi::{sys, Error, Result, Status};

use crate::chunk::{Chunk, Chunks};
use crate::js;

/// One strong reference to an ArrayBuffer kept on behalf of an op.
pub enum Hold {
  /// A reference of the op's own (the rare case the shared one cannot be used).
  Ref(sys::napi_ref),
  /// A count on the shared reference in this slot of [`Pins`].
  Pin(u32),
}

/// Where a read's bytes go at completion: `len` bytes at `at` of the held ArrayBuffer — or, for
/// a SharedArrayBuffer's view among a readv's (Node-API cannot look those up), at `shared`, its
/// memory, which the hold keeps alive and which cannot be detached or shrunk.
pub struct Dest {
  hold: Hold,
  at: usize,
  len: usize,
  shared: *mut u8,
}

pub enum To {
  /// A write: nothing goes back.
  Nothing,
  One(Dest),
  /// A readv: the bytes fill the destinations in order.
  Many(Vec<Dest>),
}

/// Everything one op keeps alive. Released on the JS thread right after the op's final CQE is
/// reaped, and only then.
pub enum Keep {
  None,
  /// JS memory the kernel uses in place (a SharedArrayBuffer, or a direct read's destination).
  One(Hold),
  Many(Vec<Hold>),
  /// Memory of the op's own that the kernel uses instead of the JS buffer(s).
  Owned {
    mem: Chunk,
    to: To,
  },
}

impl Keep {
  /// The registered buffer the op's own memory lies in (see `chunk.rs`), if any.
  pub fn fixed(&self) -> Option<u16> {
    match self {
      Keep::Owned { mem, .. } => mem.fixed(),
      _ => None,
    }
  }
}

struct Pin {
  r: sys::napi_ref,
  /// Where the ArrayBuffer's memory starts: its key in `by_base`.
  base: usize,
  count: u32,
}

/// The shared references of one ring (a slab of pins, indexed by address), and its idle chunks.
#[derive(Default)]
pub struct Pins {
  pins: Vec<Pin>,
  free: Vec<u32>,
  by_base: HashMap<usize, u32, BuildHasherDefault<AddrHasher>>,
  /// Pins whose count reached zero since the last sweep.
  idle: Vec<u32>,
  pub chunks: Chunks,
}

fn too_large() -> Error {
  Error::new(Status::InvalidArg, "buffers too large for one operation")
}

impl Pins {
  /// Keeps `view`'s ArrayBuffer alive for one op.
  ///
  /// A hit is checked to be the very same object: a detached ArrayBuffer's memory may belong to
  /// another now, at the same address; on a mismatch the op gets a reference of its own.
  fn hold(&mut self, env: sys::napi_env, view: &js::View) -> Result<Hold> {
    if let Some(&i) = self.by_base.get(&view.base) {
      let pin = &mut self.pins[i as usize];
      if js::same(env, js::get(env, pin.r), view.buffer) {
        pin.count += 1;
        return Ok(Hold::Pin(i));
      }
      return Ok(Hold::Ref(js::strong(env, view.buffer)?));
    }
    let pin = Pin {
      r: js::strong(env, view.buffer)?,
      base: view.base,
      count: 1,
    };
    let i = match self.free.pop() {
      Some(i) => {
        self.pins[i as usize] = pin;
        i
      }
      None => {
        self.pins.push(pin);
        (self.pins.len() - 1) as u32
      }
    };
    self.by_base.insert(view.base, i);
    Ok(Hold::Pin(i))
  }

  /// Bytes `offset..offset + length` of the view `value`, for the kernel to read (a write or a
  /// send): the view itself when it is a SharedArrayBuffer's or `own` (a copy the library made
  /// that no user code has), else a copy the op owns.
  pub fn source(
    &mut self,
    env: sys::napi_env,
    value: sys::napi_value,
    offset: u32,
    length: u32,
    own: bool,
  ) -> Result<(*const u8, Keep)> {
    let v = js::view(env, value)?;
    in_bounds(&v, offset, length)?;
    // SAFETY: in bounds of the view, checked above (`add(0)` on an empty view is allowed).
    let at = unsafe { v.data.add(offset as usize) };
    if v.shared || own {
      return Ok((at, Keep::One(self.hold(env, &v)?)));
    }
    let mut mem = self.chunks.get(length as usize);
    // SAFETY: `at..at + length` are live bytes of the view (checked above, no JS has run since
    // `js::view` read them); `mem` has room for `length` bytes and is not JS memory.
    unsafe { ptr::copy_nonoverlapping(at, mem.as_mut_ptr(), length as usize) };
    Ok((mem.as_ptr(), Keep::Owned { mem, to: To::Nothing }))
  }

  /// Bytes `offset..offset + length` of the view `value`, for the kernel to write (a read): the
  /// view itself when it is a SharedArrayBuffer's or `direct` (memory the library allocated and
  /// no user code has seen), else memory of the op's own, copied out at completion.
  pub fn dest(
    &mut self,
    env: sys::napi_env,
    value: sys::napi_value,
    offset: u32,
    length: u32,
    direct: bool,
  ) -> Result<(*mut u8, Keep)> {
    let v = js::view(env, value)?;
    in_bounds(&v, offset, length)?;
    if v.shared || direct {
      // SAFETY: in bounds of the view, checked above.
      return Ok((
        unsafe { v.data.add(offset as usize) },
        Keep::One(self.hold(env, &v)?),
      ));
    }
    let to = Dest {
      at: (v.data as usize).wrapping_sub(v.base) + offset as usize,
      len: length as usize,
      hold: self.hold(env, &v)?,
      shared: ptr::null_mut(),
    };
    let mut mem = self.chunks.get(length as usize);
    Ok((mem.as_mut_ptr(), Keep::Owned { mem, to: To::One(to) }))
  }

  /// An iovec per view for the kernel to read (a writev): the views themselves when all are
  /// SharedArrayBuffers' or `own` (the library's copies), else one iovec over a copy of them
  /// all, owned by the op.
  pub fn sources(
    &mut self,
    env: sys::napi_env,
    values: &[sys::napi_value],
    own: bool,
  ) -> Result<(Box<[libc::iovec]>, Keep)> {
    let views = values
      .iter()
      .map(|&b| js::view(env, b))
      .collect::<Result<Vec<_>>>()?;
    let total = total_len(&views)?;
    if own || views.iter().all(|v| v.shared) {
      return self.in_place(env, &views);
    }
    let mut mem = self.chunks.get(total);
    let mut off = 0;
    for v in &views {
      // SAFETY: each view's live bytes (no JS has run since `js::view`), into `mem`, which has
      // room for all of them (`total`).
      unsafe { ptr::copy_nonoverlapping(v.data, mem.as_mut_ptr().add(off), v.len) };
      off += v.len;
    }
    let iov = Box::new([libc::iovec {
      iov_base: mem.as_mut_ptr().cast(),
      iov_len: total,
    }]);
    Ok((iov, Keep::Owned { mem, to: To::Nothing }))
  }

  /// An iovec per view for the kernel to write (a readv): the views themselves when all are
  /// SharedArrayBuffers', else one iovec over memory of the op's own, scattered at completion.
  pub fn dests(
    &mut self,
    env: sys::napi_env,
    values: &[sys::napi_value],
  ) -> Result<(Box<[libc::iovec]>, Keep)> {
    let views = values
      .iter()
      .map(|&b| js::view(env, b))
      .collect::<Result<Vec<_>>>()?;
    let total = total_len(&views)?;
    if views.iter().all(|v| v.shared) {
      return self.in_place(env, &views);
    }
    let mut to = Vec::with_capacity(views.len());
    for v in &views {
      match self.hold(env, v) {
        Ok(hold) => to.push(Dest {
          hold,
          at: (v.data as usize).wrapping_sub(v.base),
          len: v.len,
          shared: if v.shared { v.data } else { ptr::null_mut() },
        }),
        Err(e) => {
          self.release_all(
            env,
            Keep::Owned {
              mem: Chunk::empty(),
              to: To::Many(to),
            },
            None,
          );
          return Err(e);
        }
      }
    }
    let mut mem = self.chunks.get(total);
    let iov = Box::new([libc::iovec {
      iov_base: mem.as_mut_ptr().cast(),
      iov_len: total,
    }]);
    Ok((
      iov,
      Keep::Owned {
        mem,
        to: To::Many(to),
      },
    ))
  }

  fn in_place(&mut self, env: sys::napi_env, views: &[js::View]) -> Result<(Box<[libc::iovec]>, Keep)> {
    let mut holds = Vec::with_capacity(views.len());
    for v in views {
      match self.hold(env, v) {
        Ok(h) => holds.push(h),
        Err(e) => {
          self.release_all(env, Keep::Many(holds), None);
          return Err(e);
        }
      }
    }
    let iov = views
      .iter()
      .map(|v| libc::iovec {
        iov_base: v.data.cast(),
        iov_len: v.len,
      })
      .collect();
    Ok((iov, Keep::Many(holds)))
  }

  fn buffer_of(&self, env: sys::napi_env, hold: &Hold) -> sys::napi_value {
    match *hold {
      Hold::Ref(r) => js::get(env, r),
      Hold::Pin(i) => js::get(env, self.pins[i as usize].r),
    }
  }

  fn release(&mut self, env: sys::napi_env, hold: Hold) {
    match hold {
      Hold::Ref(r) => js::unref(env, r),
      Hold::Pin(i) => {
        let pin = &mut self.pins[i as usize];
        pin.count -= 1;
        if pin.count == 0 {
          self.idle.push(i);
        }
      }
    }
  }

  /// Copies the first `n` bytes a read put into `mem` out to `to`, each destination clipped to
  /// its ArrayBuffer as it is now. Needs an open handle scope.
  fn copy_out(&self, env: sys::napi_env, mem: &Chunk, to: &To, n: usize) {
    let dests: &[Dest] = match to {
      To::Nothing => return,
      To::One(d) => std::slice::from_ref(d),
      To::Many(v) => v,
    };
    let n = n.min(mem.len());
    let mut from = 0;
    for d in dests {
      if from >= n {
        break;
      }
      let take = d.len.min(n - from);
      if !d.shared.is_null() {
        // SAFETY: a SharedArrayBuffer's memory, `d.len >= take` bytes from `d.shared`, kept alive
        // by `d.hold` and never shrunk; `mem[from..from + take]` was written by the kernel.
        unsafe { ptr::copy_nonoverlapping(mem.as_ptr().add(from), d.shared, take) };
        from += take;
        continue;
      }
      let (data, len) = js::arraybuffer_info(env, self.buffer_of(env, &d.hold));
      if !data.is_null() && d.at < len {
        let m = take.min(len - d.at);
        // SAFETY: `data..data + len` is the ArrayBuffer's memory at this moment (read just now,
        // with no JS run since: not detached, `len` its current length), and `d.at + m <= len`;
        // `mem[from..from + m]` was written by the kernel (it reported at least `n` bytes read,
        // and its final completion is reaped: it writes no more). Different allocations.
        unsafe { ptr::copy_nonoverlapping(mem.as_ptr().add(from), data.add(d.at), m) };
      }
      from += take;
    }
  }

  /// Releases what one op kept. Call only once its final CQE has been reaped; `result` is that
  /// CQE's result (a read's bytes are then copied out), `None` when nobody wants them.
  pub fn release_all(&mut self, env: sys::napi_env, keep: Keep, result: Option<i32>) {
    match keep {
      Keep::None => {}
      Keep::One(h) => self.release(env, h),
      Keep::Many(hs) => hs.into_iter().for_each(|h| self.release(env, h)),
      Keep::Owned { mem, to } => {
        if let Some(n) = result.filter(|&n| n > 0) {
          self.copy_out(env, &mem, &to, n as usize);
        }
        match to {
          To::Nothing => {}
          To::One(d) => self.release(env, d.hold),
          To::Many(ds) => ds.into_iter().for_each(|d| self.release(env, d.hold)),
        }
        self.chunks.put(mem);
      }
    }
  }

  /// Deletes the shared references no op counts on any more.
  pub fn sweep(&mut self, env: sys::napi_env) {
    for i in self.idle.drain(..) {
      let pin = &mut self.pins[i as usize];
      // Counted again since (the same buffer reused), or already swept (idle twice): keep.
      if pin.count == 0 && !pin.r.is_null() {
        js::unref(env, pin.r);
        pin.r = ptr::null_mut();
        self.by_base.remove(&pin.base);
        self.free.push(i);
      }
    }
  }
}

pub(crate) fn in_bounds(v: &js::View, offset: u32, length: u32) -> Result<()> {
  if offset as usize + length as usize > v.len {
    return Err(Error::new(
      Status::InvalidArg,
      "offset + length exceeds the buffer",
    ));
  }
  Ok(())
}

/// The bytes of all `views`, at most what one read or write can report (`i32::MAX`).
fn total_len(views: &[js::View]) -> Result<usize> {
  let total = views
    .iter()
    .try_fold(0usize, |a, v| a.checked_add(v.len))
    .ok_or_else(too_large)?;
  if total > i32::MAX as usize {
    return Err(too_large());
  }
  Ok(total)
}

/// Hashes an address: drop the alignment bits, spread with a multiply (Fibonacci hashing).
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
  fn finish(&self) -> u64 {
    // Fold the well-mixed high bits into the low ones, which pick the bucket.
    self.0 ^ (self.0 >> 29)
  }

  fn write(&mut self, bytes: &[u8]) {
    for &b in bytes {
      self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
  }

  fn write_usize(&mut self, n: usize) {
    self.0 = ((n as u64) >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15);
  }
}
