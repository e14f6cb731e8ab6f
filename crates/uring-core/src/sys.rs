//! Small system helpers shared by the ring, its submitter thread and its buffer groups (and the
//! binding's registered arena).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

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
