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
  /// A count on the shared reference to the ArrayBuffer whose memory starts at this address.
  Pin(usize),
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
  count: u32,
}

/// The shared references of one ring, by the address of the ArrayBuffer's memory.
#[derive(Default)]
pub struct Pins {
  map: HashMap<usize, Pin, BuildHasherDefault<AddrHasher>>,
  /// Addresses whose count reached zero since the last sweep.
  idle: Vec<usize>,
}

impl Pins {
  /// Keeps `view`'s ArrayBuffer alive for one op.
  ///
  /// A live ArrayBuffer is the only owner of its memory, and a referenced one stays live, so
  /// while the map holds a reference for an address no other ArrayBuffer can have memory there
  /// — unless the referenced one was detached and its memory handed to another (transfer). That
  /// is why a hit is checked to be the very same object; on a mismatch the op gets a reference
  /// of its own.
  pub fn hold(&mut self, env: sys::napi_env, view: &js::View) -> Result<Hold> {
    if let Some(pin) = self.map.get_mut(&view.base) {
      if js::same(env, js::get(env, pin.r), view.buffer) {
        pin.count += 1;
        return Ok(Hold::Pin(view.base));
      }
      return Ok(Hold::Ref(js::strong(env, view.buffer)?));
    }
    let r = js::strong(env, view.buffer)?;
    self.map.insert(view.base, Pin { r, count: 1 });
    Ok(Hold::Pin(view.base))
  }

  fn release(&mut self, env: sys::napi_env, hold: Hold) {
    match hold {
      Hold::Ref(r) => js::unref(env, r),
      Hold::Pin(base) => {
        let pin = self.map.get_mut(&base).expect("a counted pin is in the map");
        pin.count -= 1;
        if pin.count == 0 {
          self.idle.push(base);
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
    for base in self.idle.drain(..) {
      if let Some(pin) = self.map.get(&base) {
        if pin.count == 0 {
          js::unref(env, pin.r);
          self.map.remove(&base);
        }
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
