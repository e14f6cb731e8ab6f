//! What the running kernel does that an io_uring user must correct for, found out by trying it
//! once per process.
//!
//! **A short write at the file position leaves the position where it was.** A buffered write of
//! a regular file at offset -1 that the kernel can do only in part (a full disk: ENOSPC; a file
//! size limit: EFBIG; a fault in the source: EFAULT) is completed by io_uring in two steps: the
//! first copies what it can and hands the rest to a worker, whose attempt fails. The completion
//! then reports the bytes of the first step (`io_fixup_rw_res`), but the file position is
//! written back only for a non-negative result (`kiocb_done`), so it stays where the write
//! started (measured on 6.18: a 700 KiB write into a 1 MiB tmpfs holding 700 KiB returned
//! 331,776 with the position unchanged). `write(2)` moves the position by what it wrote. A
//! caller that goes on writing at the position after a short write — Node's own write loops do
//! — then writes the rest over the bytes just written, succeeds, and never sees ENOSPC.
//! [`short_write_keeps_position`] says whether this kernel does that; the binding then moves the
//! position itself after such a write (`lseek(fd, written, SEEK_CUR)`).

use std::sync::OnceLock;

use io_uring::{opcode, types, IoUring};

/// Whether a short write at the file position (offset -1) of a regular file leaves the position
/// unmoved on this kernel (see the module docs). Tried once per process: a write of two pages
/// into a memfd from memory whose second page cannot be read, which the kernel can only do in
/// part. `false` when it could not be tried (no io_uring, no memfd) or did not come out short.
pub fn short_write_keeps_position() -> bool {
  static ANSWER: OnceLock<bool> = OnceLock::new();
  *ANSWER.get_or_init(|| short_write_probe().unwrap_or(false))
}

/// The experiment behind [`short_write_keeps_position`], run anew: `None` when it could not be
/// run or the write was not short.
pub fn short_write_probe() -> Option<bool> {
  // SAFETY: sysconf has no memory effects.
  let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
  // SAFETY: plain syscalls on memory and fds this function owns; the mapping is made here, its
  // second page made inaccessible at once (so that page faults), and both are released before
  // returning.
  // The kernel reads only the first page of the mapping (it faults on the second), within the
  // write's flight: `submit_and_wait` returns only after its completion.
  unsafe {
    let fd = libc::memfd_create(c"uring-probe".as_ptr(), libc::MFD_CLOEXEC);
    if fd < 0 {
      return None;
    }
    let map = libc::mmap(
      std::ptr::null_mut(),
      2 * page,
      libc::PROT_READ | libc::PROT_WRITE,
      libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
      -1,
      0,
    );
    if map == libc::MAP_FAILED {
      libc::close(fd);
      return None;
    }
    std::ptr::write_bytes(map.cast::<u8>(), 0x5a, page);
    // Not unmapped: another mapping (the probe ring's own) could take its place.
    libc::mprotect(map.cast::<u8>().add(page).cast(), page, libc::PROT_NONE);
    let answer = (|| {
      let mut ring = IoUring::new(2).ok()?;
      let sqe = opcode::Write::new(types::Fd(fd), map.cast::<u8>(), (2 * page) as u32)
        .offset(u64::MAX)
        .build();
      ring.submission().push(&sqe).ok()?;
      ring.submit_and_wait(1).ok()?;
      let res = ring.completion().next()?.result();
      if res <= 0 || res as usize >= 2 * page {
        return None; // not short: nothing learnt
      }
      let pos = libc::lseek(fd, 0, libc::SEEK_CUR);
      Some(pos == 0)
    })();
    libc::munmap(map, 2 * page);
    libc::close(fd);
    answer
  }
}
