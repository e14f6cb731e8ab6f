//! The operations the engine can run, and the memory each one hands to the kernel.
//!
//! An [`Op`] owns its paths and iovec arrays outright (heap allocations whose addresses do not
//! change when the `Op` is moved). Caller buffers appear as raw pointers: the caller proves their
//! validity once, when it hands the op to [`Ring::push`](crate::Ring::push) together with the value
//! that keeps them alive.

use std::ffi::CString;

use io_uring::{opcode, squeue, types};

/// `AT_FDCWD`: resolve relative paths against the current directory.
pub const AT_FDCWD: i32 = libc::AT_FDCWD;

/// Offset meaning "the file's current position" for reads and writes.
pub const CURRENT_POSITION: u64 = u64::MAX;

/// The file an op works on: an fd of the process, or a slot of the ring's registered file table
/// (a "direct descriptor": not in the process's fd table, and cheaper per op).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum File {
  Fd(i32),
  Fixed(u32),
}

/// One I/O request. Fields named like the syscall's arguments.
#[derive(Debug)]
pub enum Op {
  /// Does nothing; completes with 0. Used to test the engine and to wake a ring.
  Nop,
  /// `pread(fd, buf, len, offset)`; `offset == CURRENT_POSITION` reads at the file position.
  Read { fd: File, buf: *mut u8, len: u32, offset: u64 },
  /// `pwrite(fd, buf, len, offset)`; `offset == CURRENT_POSITION` writes at the file position.
  Write { fd: File, buf: *const u8, len: u32, offset: u64 },
  /// `preadv(fd, iov, offset)`: the iovec array is owned here, the memory it points to by the caller.
  Readv { fd: i32, iov: Box<[libc::iovec]>, offset: u64 },
  /// `pwritev(fd, iov, offset)`.
  Writev { fd: i32, iov: Box<[libc::iovec]>, offset: u64 },
  /// `openat(dirfd, path, flags, mode)`; completes with the new fd, or, with `slot`, installs the
  /// file into that slot of the registered file table and completes with 0.
  OpenAt { dirfd: i32, path: CString, flags: i32, mode: u32, slot: Option<u32> },
  /// `close(fd)`, or empties a slot of the registered file table.
  Close { fd: File },
  /// `statx(dirfd, path, flags, mask, buf)`; `buf` points at `size_of::<libc::statx>()` bytes.
  Statx { dirfd: i32, path: CString, flags: i32, mask: u32, buf: *mut u8 },
  /// `fsync(fd)` or, with `datasync`, `fdatasync(fd)`.
  Fsync { fd: i32, datasync: bool },
  /// `unlinkat(dirfd, path, flags)`; `flags = AT_REMOVEDIR` removes a directory.
  UnlinkAt { dirfd: i32, path: CString, flags: i32 },
  /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
  RenameAt { olddirfd: i32, oldpath: CString, newdirfd: i32, newpath: CString, flags: u32 },
  /// `mkdirat(dirfd, path, mode)`.
  MkdirAt { dirfd: i32, path: CString, mode: u32 },
  /// `symlinkat(target, newdirfd, linkpath)`.
  SymlinkAt { target: CString, newdirfd: i32, linkpath: CString },
  /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`.
  LinkAt { olddirfd: i32, oldpath: CString, newdirfd: i32, newpath: CString, flags: i32 },
  /// `ftruncate(fd, len)` (kernel 6.9).
  Ftruncate { fd: i32, len: u64 },
  /// `fallocate(fd, mode, offset, len)`.
  Fallocate { fd: i32, mode: i32, offset: u64, len: u64 },
  /// `posix_fadvise(fd, offset, len, advice)`.
  Fadvise { fd: File, offset: u64, len: i64, advice: i32 },
}

impl Op {
  /// The io_uring opcode this op is submitted as (for probing).
  pub fn opcode(&self) -> u8 {
    match self {
      Op::Nop => opcode::Nop::CODE,
      Op::Read { .. } => opcode::Read::CODE,
      Op::Write { .. } => opcode::Write::CODE,
      Op::Readv { .. } => opcode::Readv::CODE,
      Op::Writev { .. } => opcode::Writev::CODE,
      Op::OpenAt { .. } => opcode::OpenAt::CODE,
      Op::Close { .. } => opcode::Close::CODE,
      Op::Statx { .. } => opcode::Statx::CODE,
      Op::Fsync { .. } => opcode::Fsync::CODE,
      Op::UnlinkAt { .. } => opcode::UnlinkAt::CODE,
      Op::RenameAt { .. } => opcode::RenameAt::CODE,
      Op::MkdirAt { .. } => opcode::MkDirAt::CODE,
      Op::SymlinkAt { .. } => opcode::SymlinkAt::CODE,
      Op::LinkAt { .. } => opcode::LinkAt::CODE,
      Op::Ftruncate { .. } => opcode::Ftruncate::CODE,
      Op::Fallocate { .. } => opcode::Fallocate::CODE,
      Op::Fadvise { .. } => opcode::Fadvise::CODE,
    }
  }

  /// Builds the SQE. The pointers it carries point into `self` (paths, iovecs) or at caller memory.
  pub(crate) fn entry(&self) -> squeue::Entry {
    match self {
      Op::Nop => opcode::Nop::new().build(),
      Op::Read { fd: File::Fd(fd), buf, len, offset } => {
        opcode::Read::new(types::Fd(*fd), *buf, *len).offset(*offset).build()
      }
      Op::Read { fd: File::Fixed(slot), buf, len, offset } => {
        opcode::Read::new(types::Fixed(*slot), *buf, *len).offset(*offset).build()
      }
      Op::Write { fd: File::Fd(fd), buf, len, offset } => {
        opcode::Write::new(types::Fd(*fd), *buf, *len).offset(*offset).build()
      }
      Op::Write { fd: File::Fixed(slot), buf, len, offset } => {
        opcode::Write::new(types::Fixed(*slot), *buf, *len).offset(*offset).build()
      }
      Op::Readv { fd, iov, offset } => {
        opcode::Readv::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32).offset(*offset).build()
      }
      Op::Writev { fd, iov, offset } => {
        opcode::Writev::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32).offset(*offset).build()
      }
      Op::OpenAt { dirfd, path, flags, mode, slot } => opcode::OpenAt::new(types::Fd(*dirfd), path.as_ptr())
        // A slot is never inherited by exec, and the kernel refuses O_CLOEXEC with one (EINVAL).
        .flags(if slot.is_some() { *flags & !libc::O_CLOEXEC } else { *flags | libc::O_CLOEXEC })
        .mode(*mode)
        .file_index(slot.and_then(|s| types::DestinationSlot::try_from_slot_target(s).ok()))
        .build(),
      Op::Close { fd: File::Fd(fd) } => opcode::Close::new(types::Fd(*fd)).build(),
      Op::Close { fd: File::Fixed(slot) } => opcode::Close::new(types::Fixed(*slot)).build(),
      Op::Statx { dirfd, path, flags, mask, buf } => {
        opcode::Statx::new(types::Fd(*dirfd), path.as_ptr(), (*buf).cast::<types::statx>())
          .flags(*flags)
          .mask(*mask)
          .build()
      }
      Op::Fsync { fd, datasync } => {
        let flags = if *datasync { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() };
        opcode::Fsync::new(types::Fd(*fd)).flags(flags).build()
      }
      Op::UnlinkAt { dirfd, path, flags } => {
        opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr()).flags(*flags).build()
      }
      Op::RenameAt { olddirfd, oldpath, newdirfd, newpath, flags } => opcode::RenameAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
      )
      .flags(*flags)
      .build(),
      Op::MkdirAt { dirfd, path, mode } => {
        opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr()).mode(*mode).build()
      }
      Op::SymlinkAt { target, newdirfd, linkpath } => {
        opcode::SymlinkAt::new(types::Fd(*newdirfd), target.as_ptr(), linkpath.as_ptr()).build()
      }
      Op::LinkAt { olddirfd, oldpath, newdirfd, newpath, flags } => opcode::LinkAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
      )
      .flags(*flags)
      .build(),
      Op::Ftruncate { fd, len } => opcode::Ftruncate::new(types::Fd(*fd), *len).build(),
      Op::Fallocate { fd, mode, offset, len } => {
        opcode::Fallocate::new(types::Fd(*fd), *len).offset(*offset).mode(*mode).build()
      }
      Op::Fadvise { fd: File::Fd(fd), offset, len, advice } => {
        opcode::Fadvise::new(types::Fd(*fd), *len, *advice).offset(*offset).build()
      }
      Op::Fadvise { fd: File::Fixed(slot), offset, len, advice } => {
        opcode::Fadvise::new(types::Fixed(*slot), *len, *advice).offset(*offset).build()
      }
    }
  }
}

/// Names of the ops, as the probe reports them to the layers above.
pub const OP_NAMES: &[(&str, u8)] = &[
  ("nop", opcode::Nop::CODE),
  ("read", opcode::Read::CODE),
  ("write", opcode::Write::CODE),
  ("readv", opcode::Readv::CODE),
  ("writev", opcode::Writev::CODE),
  ("openat", opcode::OpenAt::CODE),
  ("close", opcode::Close::CODE),
  ("statx", opcode::Statx::CODE),
  ("fsync", opcode::Fsync::CODE),
  ("unlinkat", opcode::UnlinkAt::CODE),
  ("renameat", opcode::RenameAt::CODE),
  ("mkdirat", opcode::MkDirAt::CODE),
  ("symlinkat", opcode::SymlinkAt::CODE),
  ("linkat", opcode::LinkAt::CODE),
  ("ftruncate", opcode::Ftruncate::CODE),
  ("fallocate", opcode::Fallocate::CODE),
  ("fadvise", opcode::Fadvise::CODE),
  ("async_cancel", opcode::AsyncCancel::CODE),
];
