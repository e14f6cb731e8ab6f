//! A directory's entries for [`Op::Readdir`](crate::Op::Readdir), which no io_uring opcode does
//! (there is no getdents opcode): the executor reads them with plain open → getdents64 → close,
//! as libuv's `uv_fs_scandir` does on its thread pool, and hands them over in a [`Listing`] the
//! op owns.

use std::ffi::c_char;
use std::ptr::NonNull;

use crate::sys::errno;

/// What `linux_dirent64` holds before its name: d_ino (8), d_off (8), d_reclen (2), d_type (1).
const NAME_AT: usize = 19;

/// A directory's entries, without `.` and `..`, sorted by name byte by byte (libuv's order: its
/// scandir sorts with `strcmp`, so Node's readdir lists names in this order).
#[derive(Default, Debug)]
pub struct Listing {
  /// The names, one after another (no separators).
  pub names: Vec<u8>,
  /// Per entry: where its name starts in `names`, its length, and its `d_type` (`DT_REG`, ...;
  /// `DT_UNKNOWN` where the file system does not say).
  pub entries: Vec<(u32, u32, u8)>,
}

impl Listing {
  /// The name of entry `i`.
  pub fn name(&self, i: usize) -> &[u8] {
    let (at, len, _) = self.entries[i];
    &self.names[at as usize..(at + len) as usize]
  }
}

/// The [`Listing`] an op owns: a heap allocation that does not move when the op does, which the
/// executor fills through a raw pointer while the op is in its hands (nothing else touches it
/// then) and the owner takes after the op's final completion.
#[derive(Debug)]
pub struct ListingCell(NonNull<Listing>);

impl ListingCell {
  pub fn new() -> ListingCell {
    ListingCell(NonNull::from(Box::leak(Box::default())))
  }

  pub(crate) fn ptr(&self) -> *mut Listing {
    self.0.as_ptr()
  }

  /// The entries read (empty before the op completed, or if it failed).
  pub fn take(&mut self) -> Listing {
    // SAFETY: the allocation is ours (made in `new`, freed only in `drop`); `&mut self` means no
    // executor holds the pointer (the owner calls this only after the op's final completion).
    std::mem::take(unsafe { self.0.as_mut() })
  }
}

impl Default for ListingCell {
  fn default() -> Self {
    ListingCell::new()
  }
}

impl Drop for ListingCell {
  fn drop(&mut self) {
    // SAFETY: made by `Box::leak` in `new`, freed once, here.
    drop(unsafe { Box::from_raw(self.0.as_ptr()) });
  }
}

/// Reads the directory `path` (relative to `dirfd`) into `out`: its entry count, or `-errno` (of
/// the open: ENOENT, ENOTDIR, EACCES, ...; or of getdents64).
///
/// # Safety
/// `path` is a NUL-terminated string, and nothing else reads or writes `*out`, for the call.
pub(crate) unsafe fn read_dir(dirfd: i32, path: *const c_char, out: *mut Listing) -> i32 {
  // SAFETY: the caller's promise.
  let out = unsafe { &mut *out };
  // SAFETY: `path` is NUL-terminated (the caller's promise); the flags are glibc opendir's.
  let fd = unsafe {
    libc::openat(
      dirfd,
      path,
      libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC,
    )
  };
  if fd < 0 {
    return errno();
  }
  // The thread's own getdents buffer, kept from one directory to the next.
  thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 32 << 10]);
  }
  let r = BUF.with_borrow_mut(|buf| read_entries(fd, buf, out));
  // SAFETY: `fd` is the directory opened above, closed once.
  unsafe { libc::close(fd) };
  if r < 0 {
    *out = Listing::default();
    return r;
  }
  let names = &out.names;
  let key = |e: &(u32, u32, u8)| &names[e.0 as usize..(e.0 + e.1) as usize];
  out.entries.sort_unstable_by(|a, b| key(a).cmp(key(b)));
  i32::try_from(out.entries.len()).unwrap_or(-libc::EOVERFLOW)
}

/// getdents64 on `fd` into `buf` until the end, each entry but `.` and `..` into `out`: 0 or
/// `-errno`.
fn read_entries(fd: i32, buf: &mut [u8], out: &mut Listing) -> i32 {
  loop {
    // SAFETY: getdents64 writes at most `buf.len()` bytes into `buf`, which we own.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
      return errno();
    }
    if n == 0 {
      return 0;
    }
    let mut rec = &buf[..n as usize];
    while rec.len() >= NAME_AT {
      let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
      let (this, rest) = rec.split_at(reclen.clamp(NAME_AT, rec.len()));
      rec = rest;
      let name = &this[NAME_AT..];
      let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
      if name == b"." || name == b".." {
        continue;
      }
      out
        .entries
        .push((out.names.len() as u32, name.len() as u32, this[18]));
      out.names.extend_from_slice(name);
    }
  }
}
