//! The memory ops own instead of JS buffers (see `keep.rs`): chunks a write's bytes are copied
//! into, or a read lands in before it is copied out.
//!
//! - **Pooled**: powers of two from 4 KiB to 1 MiB are kept for reuse (at most 2 MiB idle per
//!   size), so the hot path allocates nothing.
//! - **Page-aligned**, every one but the small ones (statx buffers, never read into): an fd opened with O_DIRECT needs an aligned buffer, which a JS
//!   ArrayBuffer's memory is not (node:fs fails such reads with EINVAL; through a chunk they work).
//! - **Registered** where the kernel allows: a ring maps one [`Arena`] of 4 KiB blocks and
//!   registers it as its fixed buffer 0 (`IORING_REGISTER_BUFFERS`); reads and writes of up to
//!   4 KiB through a block are READ_FIXED/WRITE_FIXED, which skip the kernel's per-op import of
//!   a user address (measured: +3-4% for 4 KiB page-cache reads; more for O_DIRECT, whose pages
//!   are not pinned per op). Pinned pages count against RLIMIT_MEMLOCK without CAP_IPC_LOCK, so
//!   the binding registers only as root or under a limit of at least 64 MiB; without an arena,
//!   or when the kernel refuses, chunks come from the heap and ops are plain READ/WRITE.

use std::alloc::{self, Layout};
use std::io;
use std::ptr::NonNull;

/// Every chunk but the small ones starts on a page boundary (O_DIRECT).
const ALIGN: usize = 4096;
/// Chunk sizes pooled: powers of two from 4 KiB to 1 MiB. Larger chunks are allocated per op.
const MIN_CLASS: u32 = 12;
const CLASSES: usize = 9;
/// At most this many bytes of idle chunks are kept per size class.
const POOL_BYTES_PER_CLASS: usize = 2 << 20;
/// The size of a small chunk ([`Chunks::get_small`]): a `struct statx` (256 bytes).
pub const SMALL: usize = 256;
/// Idle small chunks kept for reuse, at most (1 MiB).
const SMALL_POOL: usize = 4096;
/// Alignment of a chunk smaller than a page (only small chunks are): a cache line.
const SMALL_ALIGN: usize = 64;
/// The arena's block: the size of the ops that use registered memory.
pub const BLOCK: usize = 4096;

/// Memory owned by one op: it does not move, and nothing else reads or writes it, while the op
/// (and its `Keep`) lives.
pub struct Chunk {
  ptr: NonNull<u8>,
  len: usize,
  /// `Some(block)`: a block of the ring's arena (returned to it, never freed alone).
  block: Option<u32>,
}

impl Chunk {
  /// A chunk of no bytes.
  pub fn empty() -> Chunk {
    Chunk {
      ptr: NonNull::dangling(),
      len: 0,
      block: None,
    }
  }

  fn heap(len: usize) -> Chunk {
    if len == 0 {
      return Chunk::empty();
    }
    let layout = Layout::from_size_align(len, align(len)).expect("chunk size");
    // SAFETY: `layout` has a non-zero size.
    let p = unsafe { alloc::alloc(layout) };
    let Some(ptr) = NonNull::new(p) else {
      alloc::handle_alloc_error(layout)
    };
    Chunk {
      ptr,
      len,
      block: None,
    }
  }

  pub fn as_ptr(&self) -> *const u8 {
    self.ptr.as_ptr()
  }

  pub fn as_mut_ptr(&mut self) -> *mut u8 {
    self.ptr.as_ptr()
  }

  pub fn len(&self) -> usize {
    self.len
  }

  /// The registered buffer this chunk lies in (for READ_FIXED/WRITE_FIXED), if any.
  pub fn fixed(&self) -> Option<u16> {
    self.block.map(|_| 0)
  }
}

impl Drop for Chunk {
  fn drop(&mut self) {
    // An arena block dropped rather than returned (an op leaked) is simply not reused.
    if self.block.is_none() && self.len > 0 {
      // SAFETY: allocated by `Chunk::heap` with this very layout, freed once (here).
      unsafe {
        alloc::dealloc(
          self.ptr.as_ptr(),
          Layout::from_size_align_unchecked(self.len, align(self.len)),
        )
      };
    }
  }
}

/// The alignment of a heap chunk of `len` bytes: a page (O_DIRECT), or for a small chunk
/// (statx buffers only: never read into) a cache line.
fn align(len: usize) -> usize {
  if len < ALIGN {
    SMALL_ALIGN
  } else {
    ALIGN
  }
}

/// Anonymous memory of `blocks` 4 KiB blocks, for a ring to register.
pub struct Arena {
  base: NonNull<u8>,
  len: usize,
  free: Vec<u32>,
}

impl Arena {
  pub fn new(blocks: u32) -> io::Result<Arena> {
    let len = blocks as usize * BLOCK;
    let p = uring_core::map_anonymous(len)?;
    Ok(Arena {
      base: NonNull::new(p).expect("mmap returned null"),
      len,
      free: (0..blocks).rev().collect(),
    })
  }

  pub fn base(&self) -> *mut u8 {
    self.base.as_ptr()
  }

  pub fn len(&self) -> usize {
    self.len
  }
}

impl Drop for Arena {
  fn drop(&mut self) {
    // Only when the ring's state goes: every op was released by then, or was leaked whole (its
    // Keep never touched again). A registration keeps its pages, not these addresses, so the
    // kernel cannot write into whatever is mapped here later.
    // SAFETY: the mapping made in `new`, unmapped once.
    unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
  }
}

fn class_of(len: usize) -> Option<usize> {
  let bits = len.max(1).next_power_of_two().trailing_zeros().max(MIN_CLASS);
  let c = (bits - MIN_CLASS) as usize;
  (c < CLASSES).then_some(c)
}

/// One ring's chunks: its registered arena, if it has one, and idle chunks of the heap.
#[derive(Default)]
pub struct Chunks {
  arena: Option<Arena>,
  pool: [Vec<Chunk>; CLASSES],
  /// Idle chunks of [`SMALL`] bytes (statx buffers), see [`Chunks::get_small`].
  small: Vec<Chunk>,
}

impl Chunks {
  /// From now on, chunks of up to [`BLOCK`] bytes come from `arena` while it has free blocks.
  /// Call only once the ring registered it.
  pub fn set_arena(&mut self, arena: Arena) {
    self.arena = Some(arena);
  }

  /// A chunk of at least `len` bytes: an arena block, an idle chunk, or a new one.
  pub fn get(&mut self, len: usize) -> Chunk {
    if len <= BLOCK {
      if let Some(a) = &mut self.arena {
        if let Some(b) = a.free.pop() {
          return Chunk {
            // SAFETY: block `b < blocks`, so the offset is inside the mapping.
            ptr: unsafe { NonNull::new_unchecked(a.base.as_ptr().add(b as usize * BLOCK)) },
            len: BLOCK,
            block: Some(b),
          };
        }
      }
    }
    self.get_plain(len)
  }

  /// A chunk of at least `len` bytes that is never an arena block (for memory no fixed opcode
  /// uses, such as a statx buffer, so it does not take a 4 KiB block away from reads).
  pub fn get_plain(&mut self, len: usize) -> Chunk {
    match class_of(len) {
      Some(c) => self.pool[c]
        .pop()
        .unwrap_or_else(|| Chunk::heap(1 << (c as u32 + MIN_CLASS))),
      None => Chunk::heap(len),
    }
  }

  /// A chunk of [`SMALL`] bytes (a statx buffer), pooled apart from the others: it needs no page
  /// alignment, and thousands may be in flight at once (a walk stats every file of a directory
  /// together), past the 4 KiB class's pool, where each cost a page-aligned allocation (measured:
  /// ~5% of the JS thread in a walk of 10k files).
  pub fn get_small(&mut self) -> Chunk {
    self.small.pop().unwrap_or_else(|| Chunk::heap(SMALL))
  }

  /// Takes back a chunk no op uses any more.
  pub fn put(&mut self, mem: Chunk) {
    if mem.len() == SMALL && mem.block.is_none() {
      if self.small.len() < SMALL_POOL {
        self.small.push(mem);
      }
      return;
    }
    if let Some(b) = mem.block {
      if let Some(a) = &mut self.arena {
        a.free.push(b);
      }
      // Dropping an arena block frees nothing (see `Drop for Chunk`).
      return;
    }
    if let Some(c) = class_of(mem.len()) {
      let pool = &mut self.pool[c];
      if mem.len() == 1 << (c as u32 + MIN_CLASS) && (pool.len() + 1) * mem.len() <= POOL_BYTES_PER_CLASS {
        pool.push(mem);
      }
    }
  }
}
