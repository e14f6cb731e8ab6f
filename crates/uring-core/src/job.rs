//! What the executor (`executor`) runs: a job, the syscall an op stands for (STATX and the path
//! ops; the ops no opcode does: readdir, access, chmod; or writeFile's open → write → close
//! chain) with its arguments, and how it runs. The pointers in a job point at memory its ops'
//! slots own until the CQEs posted for them are reaped.

use crate::listing::{read_dir, Listing};
use crate::op::{File, Op};
use crate::sys::errno;
use std::ffi::c_char;

/// What a job does: the syscall and its arguments, copied from the op (paths as pointers to the
/// op's own NUL-terminated strings, which live on the heap and do not move with the op).
#[derive(Clone, Copy)]
pub(crate) enum Work {
  Statx {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
    mask: u32,
    buf: *mut u8,
  },
  Unlinkat {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
  },
  Renameat {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: u32,
  },
  Mkdirat {
    dirfd: i32,
    path: *const c_char,
    mode: u32,
  },
  Symlinkat {
    target: *const c_char,
    newdirfd: i32,
    linkpath: *const c_char,
  },
  Linkat {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: i32,
  },
  Access {
    dirfd: i32,
    path: *const c_char,
    mode: i32,
  },
  Chmod {
    dirfd: i32,
    path: *const c_char,
    mode: u32,
  },
  /// A directory read into the op's listing (see `listing.rs`): its entry count.
  Readdir {
    dirfd: i32,
    path: *const c_char,
    out: *mut Listing,
  },
  /// writeFile's chain (open into a file-table slot → write at 0 → close the slot), run as
  /// open(2) → write(2) until all is written → close(2), with a plain fd: an open that creates
  /// or truncates is always handed to io-wq. Its three results go to the three ops' tokens (the
  /// open's own is the job's), as the chain's CQEs would: the open's 0 or -errno; the bytes
  /// written or -errno; the close's result, or -ECANCELED where the chain would not have
  /// reached it (the library's caller then closes the slot, which is empty: harmless).
  WriteFile {
    dirfd: i32,
    path: *const c_char,
    flags: i32,
    mode: u32,
    buf: *const u8,
    len: u32,
    write: u32,
    close: u32,
  },
}

impl Work {
  /// The work of `op`, for the ops the executor runs (`None` for the others): STATX and the path
  /// ops, which io_uring always hands to an io-wq worker.
  pub(crate) fn of(op: &Op) -> Option<Work> {
    Some(match op {
      Op::Statx {
        dirfd,
        path,
        flags,
        mask,
        buf,
      } => Work::Statx {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
        mask: *mask,
        buf: *buf,
      },
      Op::UnlinkAt { dirfd, path, flags } => Work::Unlinkat {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
      },
      Op::RenameAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => Work::Renameat {
        olddirfd: *olddirfd,
        oldpath: oldpath.as_ptr(),
        newdirfd: *newdirfd,
        newpath: newpath.as_ptr(),
        flags: *flags,
      },
      Op::MkdirAt { dirfd, path, mode } => Work::Mkdirat {
        dirfd: *dirfd,
        path: path.as_ptr(),
        mode: *mode,
      },
      Op::SymlinkAt {
        target,
        newdirfd,
        linkpath,
      } => Work::Symlinkat {
        target: target.as_ptr(),
        newdirfd: *newdirfd,
        linkpath: linkpath.as_ptr(),
      },
      Op::LinkAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => Work::Linkat {
        olddirfd: *olddirfd,
        oldpath: oldpath.as_ptr(),
        newdirfd: *newdirfd,
        newpath: newpath.as_ptr(),
        flags: *flags,
      },
      Op::Access { dirfd, path, mode } => Work::Access {
        dirfd: *dirfd,
        path: path.as_ptr(),
        mode: *mode,
      },
      Op::Chmod { dirfd, path, mode } => Work::Chmod {
        dirfd: *dirfd,
        path: path.as_ptr(),
        mode: *mode,
      },
      Op::Readdir { dirfd, path, out } => Work::Readdir {
        dirfd: *dirfd,
        path: path.as_ptr(),
        out: out.ptr(),
      },
      _ => return None,
    })
  }

  /// A job long enough (a directory read: tens of microseconds, and JS work to follow for each
  /// entry) that its result is posted as soon as it is done, not once the queue is empty: the
  /// owner turns it into values while this thread reads the next directory.
  pub(crate) fn posted_at_once(&self) -> bool {
    matches!(self, Work::Readdir { .. })
  }

  /// The work of a chain of ops (`tokens` in order, soft-linked: the caller checks), for the one
  /// chain the executor runs: writeFile's open → write → close of one file-table slot.
  pub(crate) fn of_chain(ops: [&Op; 3], tokens: [u32; 3]) -> Option<Work> {
    match (ops[0], ops[1], ops[2]) {
      (
        Op::OpenAt {
          dirfd,
          path,
          flags,
          mode,
          slot: Some(s),
        },
        Op::Write {
          fd: File::Fixed(ws),
          buf,
          len,
          offset: 0,
        },
        Op::Close { fd: File::Fixed(cs) },
      ) if ws == s && cs == s => Some(Work::WriteFile {
        dirfd: *dirfd,
        path: path.as_ptr(),
        flags: *flags,
        mode: *mode,
        buf: *buf,
        len: *len,
        write: tokens[1],
        close: tokens[2],
      }),
      _ => None,
    }
  }

  /// Runs the work, pushing `(token, result)` for each op it stands for (`token`: the first's).
  ///
  /// # Safety
  /// The pointers are valid as [`Job`] says.
  pub(crate) unsafe fn run_into(self, token: u32, results: &mut Vec<(u32, i32)>) {
    let Work::WriteFile {
      dirfd,
      path,
      flags,
      mode,
      buf,
      len,
      write,
      close,
    } = self
    else {
      // SAFETY: forwarded.
      results.push((token, unsafe { self.run() }));
      return;
    };
    // SAFETY: `path` is the open op's NUL-terminated string and `buf..buf + len` the write op's
    // own copy of the data, both kept alive by their slots until the CQEs posted for them.
    unsafe {
      let fd = libc::openat(dirfd, path, flags | libc::O_CLOEXEC, mode as libc::c_uint);
      if fd < 0 {
        results.extend([
          (token, errno()),
          (write, -libc::ECANCELED),
          (close, -libc::ECANCELED),
        ]);
        return;
      }
      let mut done = 0usize;
      while done < len as usize {
        let n = libc::write(fd, buf.add(done).cast(), len as usize - done);
        if n <= 0 {
          let e = if n == 0 { -libc::EIO } else { errno() };
          libc::close(fd);
          results.extend([(token, 0), (write, e), (close, -libc::ECANCELED)]);
          return;
        }
        done += n as usize;
      }
      match libc::close(fd) {
        // All three as the chain's CQEs would say: one post (see WRITE_FILE_DONE).
        0 => results.push((close, WRITE_FILE_DONE)),
        _ => results.extend([(token, 0), (write, done as i32), (close, errno())]),
      }
    }
  }

  /// Runs the syscall: its result as a CQE would carry it (`-errno` on failure).
  ///
  /// # Safety
  /// The pointers are valid as [`Job`] says.
  unsafe fn run(self) -> i32 {
    // SAFETY (every call): the paths are NUL-terminated strings and `buf` points at a writable
    // statx buffer, all kept alive by the op's slot until its CQE is reaped (the module's
    // invariant); the flags are passed to the kernel as the SQE would have.
    let r = unsafe {
      match self {
        Work::Statx {
          dirfd,
          path,
          flags,
          mask,
          buf,
        } => libc::statx(dirfd, path, flags, mask, buf.cast()) as libc::c_long,
        Work::Unlinkat { dirfd, path, flags } => libc::unlinkat(dirfd, path, flags) as libc::c_long,
        // renameat2 as a raw syscall: libc wrappers for it are not in every C library we build for.
        Work::Renameat {
          olddirfd,
          oldpath,
          newdirfd,
          newpath,
          flags,
        } => libc::syscall(libc::SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags),
        Work::Mkdirat { dirfd, path, mode } => {
          libc::mkdirat(dirfd, path, mode as libc::mode_t) as libc::c_long
        }
        Work::Symlinkat {
          target,
          newdirfd,
          linkpath,
        } => libc::symlinkat(target, newdirfd, linkpath) as libc::c_long,
        Work::Linkat {
          olddirfd,
          oldpath,
          newdirfd,
          newpath,
          flags,
        } => libc::linkat(olddirfd, oldpath, newdirfd, newpath, flags) as libc::c_long,
        Work::Access { dirfd, path, mode } => libc::faccessat(dirfd, path, mode, 0) as libc::c_long,
        Work::Chmod { dirfd, path, mode } => {
          libc::fchmodat(dirfd, path, mode as libc::mode_t, 0) as libc::c_long
        }
        // SAFETY: `out` is the op's listing, which nothing else touches while the op is in
        // the executor's hands (or, run inline, while the owner runs it).
        Work::Readdir { dirfd, path, out } => return read_dir(dirfd, path, out),
        Work::WriteFile { .. } => unreachable!("run_into runs writeFile"),
      }
    };
    if r == 0 {
      0
    } else {
      errno()
    }
  }
}

/// The result posted for a writeFile chain's close when its open, its write (of all the bytes)
/// and its close all succeeded: one MSG_RING for the three ops instead of three (install-like
/// writeFiles on tmpfs +3%: executor.rs). The reap turns it back into the chain's three results
/// (`Ring`'s `packed`). Below every `-errno`.
pub(crate) const WRITE_FILE_DONE: i32 = i32::MIN;

/// The results a batch of them stands for: one per op (a packed writeFile's, three).
pub(crate) fn ops_posted(results: &[(u32, i32)]) -> usize {
  results
    .iter()
    .map(|&(_, r)| if r == WRITE_FILE_DONE { 3 } else { 1 })
    .sum()
}

/// An op's token and its work.
pub(crate) struct Job {
  pub(crate) token: u32,
  pub(crate) work: Work,
}

impl Job {
  /// The tokens of the ops the job stands for, first to last (a writeFile chain's three).
  pub(crate) fn tokens(&self) -> impl DoubleEndedIterator<Item = u32> {
    let rest = match self.work {
      Work::WriteFile { write, close, .. } => [Some(write), Some(close)],
      _ => [None, None],
    };
    std::iter::once(self.token).chain(rest.into_iter().flatten())
  }
}

// SAFETY: a job's pointers point at memory owned by its op's slot, which no other thread touches
// while the op is counted in the kernel: the owner reads it only after reaping the op's CQE, which
// the executor posts after its last access.
unsafe impl Send for Job {}
