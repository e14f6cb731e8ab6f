//! What keeps the memory of in-flight ops alive: strong references to the JS ArrayBuffers their
//! SQEs point into.
//!
//! A reference per op costs a V8 global handle and a heap allocation, made and freed each time
//! (measured: about a tenth of a 4 KiB page-cache read). Programs read into the same few buffers
//! over and over, so references are shared instead: [`Pins`] holds one reference per ArrayBuffer
//! with a count of the ops using it. A count that drops to zero does not delete the reference at
//! once but at the end of the loop turn ([`Pins::sweep`]), so a buffer released by a completion
//! and handed to the next read by that completion's promise reaction is never unpinned at all.
//!
//! Soundness does not depend on the sharing: every op's [`Keep`] counts for one, and a reference
//! is deleted only when no op counts on it. Holding one longer is always safe.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use napi::{sys, Result};

use crate::js;

/// One strong reference kept on behalf of an op.
pub enum Hold {
  /// A reference of the op's own (the rare case the shared one cannot be used).
  Ref(sys::napi_ref),
  /// A count on the shared reference in this slot of [`Pins`].
  Pin(u32),
}

/// Everything one op keeps alive. Released on the JS thread right after the op's final CQE is
/// reaped, and only then.
pub enum Keep {
  None,
  One(Hold),
  Many(Vec<Hold>),
}

struct Pin {
  r: sys::napi_ref,
  /// Where the ArrayBuffer's memory starts: its key in `by_base`.
  base: usize,
  count: u32,
}

/// The shared references of one ring: a slab of pins, indexed by address.
#[derive(Default)]
pub struct Pins {
  pins: Vec<Pin>,
  free: Vec<u32>,
  by_base: HashMap<usize, u32, BuildHasherDefault<AddrHasher>>,
  /// Pins whose count reached zero since the last sweep.
  idle: Vec<u32>,
}

impl Pins {
  /// Keeps `view`'s ArrayBuffer alive for one op.
  ///
  /// A live ArrayBuffer is the only owner of its memory, and a referenced one stays live, so
  /// while a pin holds a reference for an address no other ArrayBuffer can have memory there
  /// — unless the referenced one was detached and its memory handed to another (transfer). That
  /// is why a hit is checked to be the very same object; on a mismatch the op gets a reference
  /// of its own.
  pub fn hold(&mut self, env: sys::napi_env, view: &js::View) -> Result<Hold> {
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

  /// Releases what one op kept. Call only once its final CQE has been reaped.
  pub fn release_all(&mut self, env: sys::napi_env, keep: Keep) {
    match keep {
      Keep::None => {}
      Keep::One(h) => self.release(env, h),
      Keep::Many(hs) => hs.into_iter().for_each(|h| self.release(env, h)),
    }
  }

  /// Deletes the shared references no op counts on any more.
  pub fn sweep(&mut self, env: sys::napi_env) {
    for i in self.idle.drain(..) {
      let pin = &mut self.pins[i as usize];
      // Counted again since (the same buffer reused), or already swept (idle twice): keep.
      if pin.count == 0 && !pin.r.is_null() {
        js::unref(env, pin.r);
        pin.r = std::ptr::null_mut();
        self.by_base.remove(&pin.base);
        self.free.push(i);
      }
    }
  }
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
