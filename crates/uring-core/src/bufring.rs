//! Provided-buffer rings (kernel 5.19): a group of equal buffers, owned by the ring, that the
//! kernel picks from for multishot receives (`Op::RecvMulti`). A completion names the buffer it
//! filled (`IORING_CQE_F_BUFFER`, [`buffer_id`]); the owner reads it and gives it back with
//! [`Ring::recycle_buffer`](crate::Ring::recycle_buffer).
//!
//! Memory: the entry ring and the buffers are anonymous mappings registered with the kernel. The
//! kernel reads the entries and writes the buffers it takes, so both stay mapped until the group
//! is unregistered with no op left in the kernel; a ring dropped with ops inside leaks them
//! instead (as it leaks those ops).

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

use crate::sys::map_anonymous;

/// The buffer a completion's `flags` name, if it carries one.
pub fn buffer_id(flags: u32) -> Option<u16> {
  io_uring::cqueue::buffer_select(flags)
}

pub(crate) struct BufferGroup {
  pub(crate) group: u16,
  entries: *mut BufRingEntry,
  count: u16,
  tail: u16,
  bufs: *mut u8,
  size: u32,
}

impl BufferGroup {
  /// Maps `count` buffers of `size` bytes and an entry ring for them, registers the ring as
  /// group `group`, and hands every buffer to the kernel. `count`: a power of two, 1..=32768.
  pub(crate) fn new(submitter: &Submitter<'_>, group: u16, count: u16, size: u32) -> io::Result<BufferGroup> {
    if count == 0 || !count.is_power_of_two() || count > 32768 || size == 0 {
      return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let total = (count as usize)
      .checked_mul(size as usize)
      .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let entries = map_anonymous(count as usize * std::mem::size_of::<BufRingEntry>())?.cast::<BufRingEntry>();
    let bufs = match map_anonymous(total) {
      Ok(b) => b,
      Err(e) => {
        // SAFETY: unmaps exactly the mapping made above, which nothing references yet.
        unsafe {
          libc::munmap(
            entries.cast(),
            count as usize * std::mem::size_of::<BufRingEntry>(),
          )
        };
        return Err(e);
      }
    };
    let mut g = BufferGroup {
      group,
      entries,
      count,
      tail: 0,
      bufs,
      size,
    };
    // SAFETY: `entries` is a page-aligned mapping of `count` entries that lives until `release`
    // (or is leaked), which is what the kernel requires of a registered buffer ring.
    if let Err(e) = unsafe { submitter.register_buf_ring_with_flags(entries as u64, count, group, 0) } {
      g.unmap();
      return Err(e);
    }
    for bid in 0..count {
      g.add(bid);
    }
    g.publish();
    Ok(g)
  }

  /// Writes buffer `bid` into the next free entry (not yet visible to the kernel).
  fn add(&mut self, bid: u16) {
    let i = (self.tail & (self.count - 1)) as usize;
    // SAFETY: `i < count`, inside the entry mapping; the kernel reads only entries before the
    // published tail, and this one is past it until `publish`.
    let e = unsafe { &mut *self.entries.add(i) };
    // SAFETY: `bid < count`, so the buffer lies inside the buffer mapping.
    e.set_addr(unsafe { self.bufs.add(bid as usize * self.size as usize) } as u64);
    e.set_len(self.size);
    e.set_bid(bid);
    self.tail = self.tail.wrapping_add(1);
  }

  /// Makes the entries added so far visible to the kernel.
  fn publish(&self) {
    // SAFETY: the tail field lives in the first entry of the mapping; the kernel reads it
    // concurrently, so it is written atomically with release ordering (after the entries).
    let tail = unsafe { &*(BufRingEntry::tail(self.entries) as *const AtomicU16) };
    tail.store(self.tail, Ordering::Release);
  }

  /// The first `len` bytes of buffer `bid` (what a completion said the kernel wrote there).
  pub(crate) fn data(&self, bid: u16, len: usize) -> Option<&[u8]> {
    if bid >= self.count || len > self.size as usize {
      return None;
    }
    // SAFETY: in bounds (checked); the kernel wrote this buffer before posting the completion
    // that named it and does not touch it again until it is recycled.
    Some(unsafe { std::slice::from_raw_parts(self.bufs.add(bid as usize * self.size as usize), len) })
  }

  /// Gives buffer `bid` back to the kernel.
  pub(crate) fn recycle(&mut self, bid: u16) -> bool {
    if bid >= self.count {
      return false;
    }
    self.add(bid);
    self.publish();
    true
  }

  /// Unregisters the group and unmaps its memory. Only with no op in the kernel.
  pub(crate) fn release(mut self, submitter: &Submitter<'_>) {
    let _ = submitter.unregister_buf_ring(self.group);
    self.unmap();
  }

  fn unmap(&mut self) {
    // SAFETY: both mappings were made in `new` with these lengths; the kernel no longer uses them
    // (the group is unregistered, or never was), and nothing else points into them.
    unsafe {
      libc::munmap(
        self.entries.cast(),
        self.count as usize * std::mem::size_of::<BufRingEntry>(),
      );
      libc::munmap(self.bufs.cast(), self.count as usize * self.size as usize);
    }
  }
}
