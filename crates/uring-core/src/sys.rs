//! Small system helpers shared by the ring, its submitter thread and its buffer groups (and the
//! binding's registered arena).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A new close-on-exec eventfd with these extra flags.
pub(crate) fn eventfd(flags: i32) -> io::Result<OwnedFd> {
  // SAFETY: eventfd returns a new fd or -1; a new fd is owned by nobody else.
  let fd = unsafe { libc::eventfd(0, flags | libc::EFD_CLOEXEC) };
  if fd < 0 {
    return Err(io::Error::last_os_error());
  }
  // SAFETY: as above.
  Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An fd of the library's own (a duplicate of `fd`), placed high in the fd table (from half the
/// RLIMIT_NOFILE up): code that closes an fd twice (a bug, but one that node:fs survives with an
/// EBADF) closes a number it just freed, which the kernel hands out lowest first; a ring or
/// duplicate made meanwhile (the executor's) would otherwise take it. Falls back to any number.
pub(crate) fn high_fd(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
  let mut lim = libc::rlimit {
    rlim_cur: 0,
    rlim_max: 0,
  };
  // SAFETY: getrlimit fills a live local; fcntl(F_DUPFD_CLOEXEC) only duplicates `fd`, which is
  // open for this call (borrowed); a new fd it returns is ours alone.
  unsafe {
    let min = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
      (lim.rlim_cur / 2).clamp(3, 1 << 20) as i32
    } else {
      3
    };
    let r = libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min);
    if r >= 0 {
      return Ok(OwnedFd::from_raw_fd(r));
    }
  }
  fd.try_clone_to_owned()
}

/// The calling thread's last error as a CQE carries it: `-errno`.
pub(crate) fn errno() -> i32 {
  -io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

pub(crate) fn transient(e: &io::Error) -> bool {
  matches!(
    e.raw_os_error(),
    Some(libc::EAGAIN) | Some(libc::EBUSY) | Some(libc::EINTR)
  )
}

/// An anonymous private mapping of `len` bytes (page-aligned, zeroed), or the error.
pub fn map_anonymous(len: usize) -> io::Result<*mut u8> {
  // SAFETY: a new anonymous mapping aliases nothing; failure is MAP_FAILED.
  let p = unsafe {
    libc::mmap(
      std::ptr::null_mut(),
      len,
      libc::PROT_READ | libc::PROT_WRITE,
      libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
      -1,
      0,
    )
  };
  if p == libc::MAP_FAILED {
    return Err(io::Error::last_os_error());
  }
  Ok(p.cast())
}
