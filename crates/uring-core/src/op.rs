//! The operations the engine can run, and the memory each one hands to the kernel.
//!
//! An [`Op`] owns its paths and iovec arrays outright (heap allocations whose addresses do not
//! change when the `Op` is moved). Caller buffers appear as raw pointers: the caller proves their
//! validity once, when it hands the op to [`Ring::push`](crate::Ring::push) together with the value
//! that keeps them alive.

use std::ffi::CString;
use std::{fmt, io, mem, net};

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

/// A socket address, owned by the op that hands it to the kernel (connect, bind).
pub struct SockAddr {
  storage: Box<libc::sockaddr_storage>,
  len: libc::socklen_t,
}

impl SockAddr {
  /// An IPv4 or IPv6 address.
  pub fn inet(addr: &net::SocketAddr) -> SockAddr {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid (empty) value.
    let mut storage: Box<libc::sockaddr_storage> = Box::new(unsafe { mem::zeroed() });
    let len = match addr {
      net::SocketAddr::V4(a) => {
        let sin = libc::sockaddr_in {
          sin_family: libc::AF_INET as libc::sa_family_t,
          sin_port: a.port().to_be(),
          sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
          },
          sin_zero: [0; 8],
        };
        // SAFETY: sockaddr_storage is larger than, and aligned for, sockaddr_in.
        unsafe { std::ptr::write((&mut *storage as *mut libc::sockaddr_storage).cast(), sin) };
        mem::size_of::<libc::sockaddr_in>()
      }
      net::SocketAddr::V6(a) => {
        let sin6 = libc::sockaddr_in6 {
          sin6_family: libc::AF_INET6 as libc::sa_family_t,
          sin6_port: a.port().to_be(),
          sin6_flowinfo: a.flowinfo(),
          sin6_addr: libc::in6_addr {
            s6_addr: a.ip().octets(),
          },
          sin6_scope_id: a.scope_id(),
        };
        // SAFETY: as above, for sockaddr_in6.
        unsafe { std::ptr::write((&mut *storage as *mut libc::sockaddr_storage).cast(), sin6) };
        mem::size_of::<libc::sockaddr_in6>()
      }
    };
    SockAddr {
      storage,
      len: len as libc::socklen_t,
    }
  }

  /// A Unix socket path (at most 107 bytes, no NUL; a leading NUL names an abstract socket).
  pub fn unix(path: &[u8]) -> io::Result<SockAddr> {
    // SAFETY: as in `inet`.
    let mut storage: Box<libc::sockaddr_storage> = Box::new(unsafe { mem::zeroed() });
    // SAFETY: sockaddr_storage is larger than, and aligned for, sockaddr_un.
    let un = unsafe { &mut *(&mut *storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
    let abstract_ = path.first() == Some(&0);
    if path.is_empty() || path.len() >= un.sun_path.len() || (!abstract_ && path.contains(&0)) {
      return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    un.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in un.sun_path.iter_mut().zip(path) {
      *d = *s as libc::c_char;
    }
    // Abstract names count exactly; paths count their terminating NUL.
    let len = mem::size_of::<libc::sa_family_t>() + path.len() + usize::from(!abstract_);
    Ok(SockAddr {
      storage,
      len: len as libc::socklen_t,
    })
  }

  /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`).
  pub fn family(&self) -> i32 {
    self.storage.ss_family as i32
  }

  fn ptr(&self) -> *const libc::sockaddr {
    (&*self.storage as *const libc::sockaddr_storage).cast()
  }
}

impl fmt::Debug for SockAddr {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("SockAddr")
      .field("family", &self.family())
      .field("len", &self.len)
      .finish()
  }
}

/// One I/O request. Fields named like the syscall's arguments.
#[derive(Debug)]
pub enum Op {
  /// Does nothing; completes with 0. Used to test the engine and to wake a ring.
  Nop,
  /// `pread(fd, buf, len, offset)`; `offset == CURRENT_POSITION` reads at the file position.
  Read {
    fd: File,
    buf: *mut u8,
    len: u32,
    offset: u64,
  },
  /// `pwrite(fd, buf, len, offset)`; `offset == CURRENT_POSITION` writes at the file position.
  Write {
    fd: File,
    buf: *const u8,
    len: u32,
    offset: u64,
  },
  /// `Read` into memory the ring registered (`IORING_OP_READ_FIXED`): `buf..buf + len` lies
  /// inside registered buffer `index` (see [`Ring::register_buffer`](crate::Ring::register_buffer)).
  ReadFixed {
    fd: File,
    buf: *mut u8,
    len: u32,
    offset: u64,
    index: u16,
  },
  /// `Write` from memory the ring registered (`IORING_OP_WRITE_FIXED`), as [`Op::ReadFixed`].
  WriteFixed {
    fd: File,
    buf: *const u8,
    len: u32,
    offset: u64,
    index: u16,
  },
  /// `preadv(fd, iov, offset)`: the iovec array is owned here, the memory it points to by the caller.
  Readv {
    fd: i32,
    iov: Box<[libc::iovec]>,
    offset: u64,
  },
  /// `pwritev(fd, iov, offset)`.
  Writev {
    fd: i32,
    iov: Box<[libc::iovec]>,
    offset: u64,
  },
  /// `openat(dirfd, path, flags, mode)`; completes with the new fd, or, with `slot`, installs the
  /// file into that slot of the registered file table and completes with 0.
  OpenAt {
    dirfd: i32,
    path: CString,
    flags: i32,
    mode: u32,
    slot: Option<u32>,
  },
  /// `close(fd)`, or empties a slot of the registered file table.
  Close { fd: File },
  /// `statx(dirfd, path, flags, mask, buf)`; `buf` points at `size_of::<libc::statx>()` bytes.
  Statx {
    dirfd: i32,
    path: CString,
    flags: i32,
    mask: u32,
    buf: *mut u8,
  },
  /// `fsync(fd)` or, with `datasync`, `fdatasync(fd)`.
  Fsync { fd: i32, datasync: bool },
  /// `unlinkat(dirfd, path, flags)`; `flags = AT_REMOVEDIR` removes a directory.
  UnlinkAt { dirfd: i32, path: CString, flags: i32 },
  /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
  RenameAt {
    olddirfd: i32,
    oldpath: CString,
    newdirfd: i32,
    newpath: CString,
    flags: u32,
  },
  /// `mkdirat(dirfd, path, mode)`.
  MkdirAt { dirfd: i32, path: CString, mode: u32 },
  /// `symlinkat(target, newdirfd, linkpath)`.
  SymlinkAt {
    target: CString,
    newdirfd: i32,
    linkpath: CString,
  },
  /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`.
  LinkAt {
    olddirfd: i32,
    oldpath: CString,
    newdirfd: i32,
    newpath: CString,
    flags: i32,
  },
  /// `ftruncate(fd, len)` (kernel 6.9).
  Ftruncate { fd: i32, len: u64 },
  /// `fallocate(fd, mode, offset, len)`.
  Fallocate {
    fd: i32,
    mode: i32,
    offset: u64,
    len: u64,
  },
  /// `posix_fadvise(fd, offset, len, advice)`.
  Fadvise {
    fd: File,
    offset: u64,
    len: i64,
    advice: i32,
  },
  /// `socket(domain, ty | SOCK_CLOEXEC, protocol)` (5.19); completes with the new fd.
  Socket { domain: i32, ty: i32, protocol: i32 },
  /// `bind(fd, addr)` (6.11).
  Bind { fd: i32, addr: SockAddr },
  /// `listen(fd, backlog)` (6.11).
  Listen { fd: i32, backlog: i32 },
  /// `connect(fd, addr)`.
  Connect { fd: i32, addr: SockAddr },
  /// `accept4(fd, NULL, NULL, SOCK_CLOEXEC)`; completes with the new fd. `multishot` (5.19):
  /// one CQE per connection, with `IORING_CQE_F_MORE` while the request stands.
  Accept { fd: i32, multishot: bool },
  /// `recv(fd, buf, len, 0)`.
  Recv { fd: i32, buf: *mut u8, len: u32 },
  /// Multishot `recv` (6.0) into buffers of the ring's provided-buffer group `group` (see
  /// [`Ring::add_buffer_group`](crate::Ring::add_buffer_group)): one CQE per chunk received,
  /// naming its buffer (`IORING_CQE_F_BUFFER`), with `IORING_CQE_F_MORE` while the request stands.
  RecvMulti { fd: i32, group: u16 },
  /// `send(fd, buf, len, MSG_NOSIGNAL | MSG_WAITALL)`: on a stream socket io_uring goes on after
  /// a partial send until all of `buf` is sent or an error comes, so a result short of `len`
  /// means the connection failed (the caller need not come back to `buf` for the rest, which
  /// may no longer be there). `zerocopy` (6.0): `IORING_OP_SEND_ZC`, whose result CQE
  /// is followed by a notification CQE once the kernel no longer reads `buf`; the op (and what
  /// keeps `buf` alive) is released only with that last CQE.
  Send {
    fd: i32,
    buf: *const u8,
    len: u32,
    zerocopy: bool,
  },
  /// `shutdown(fd, how)` (5.11).
  Shutdown { fd: i32, how: i32 },
}

impl Op {
  /// The io_uring opcode this op is submitted as (for probing).
  pub fn opcode(&self) -> u8 {
    match self {
      Op::Nop => opcode::Nop::CODE,
      Op::Read { .. } => opcode::Read::CODE,
      Op::Write { .. } => opcode::Write::CODE,
      Op::ReadFixed { .. } => opcode::ReadFixed::CODE,
      Op::WriteFixed { .. } => opcode::WriteFixed::CODE,
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
      Op::Socket { .. } => opcode::Socket::CODE,
      Op::Bind { .. } => opcode::Bind::CODE,
      Op::Listen { .. } => opcode::Listen::CODE,
      Op::Connect { .. } => opcode::Connect::CODE,
      Op::Accept { .. } => opcode::Accept::CODE,
      Op::Recv { .. } | Op::RecvMulti { .. } => opcode::Recv::CODE,
      Op::Send { zerocopy: false, .. } => opcode::Send::CODE,
      Op::Send { zerocopy: true, .. } => opcode::SendZc::CODE,
      Op::Shutdown { .. } => opcode::Shutdown::CODE,
    }
  }

  /// A multishot op: it stands in the kernel, posting completions, until it ends or is cancelled.
  pub fn standing(&self) -> bool {
    matches!(self, Op::Accept { multishot: true, .. } | Op::RecvMulti { .. })
  }

  /// Builds the SQE. The pointers it carries point into `self` (paths, iovecs) or at caller memory.
  pub(crate) fn entry(&self) -> squeue::Entry {
    match self {
      Op::Nop => opcode::Nop::new().build(),
      Op::Read {
        fd: File::Fd(fd),
        buf,
        len,
        offset,
      } => opcode::Read::new(types::Fd(*fd), *buf, *len)
        .offset(*offset)
        .build(),
      Op::Read {
        fd: File::Fixed(slot),
        buf,
        len,
        offset,
      } => opcode::Read::new(types::Fixed(*slot), *buf, *len)
        .offset(*offset)
        .build(),
      Op::Write {
        fd: File::Fd(fd),
        buf,
        len,
        offset,
      } => opcode::Write::new(types::Fd(*fd), *buf, *len)
        .offset(*offset)
        .build(),
      Op::Write {
        fd: File::Fixed(slot),
        buf,
        len,
        offset,
      } => opcode::Write::new(types::Fixed(*slot), *buf, *len)
        .offset(*offset)
        .build(),
      Op::ReadFixed {
        fd,
        buf,
        len,
        offset,
        index,
      } => match fd {
        File::Fd(fd) => opcode::ReadFixed::new(types::Fd(*fd), *buf, *len, *index)
          .offset(*offset)
          .build(),
        File::Fixed(slot) => opcode::ReadFixed::new(types::Fixed(*slot), *buf, *len, *index)
          .offset(*offset)
          .build(),
      },
      Op::WriteFixed {
        fd,
        buf,
        len,
        offset,
        index,
      } => match fd {
        File::Fd(fd) => opcode::WriteFixed::new(types::Fd(*fd), *buf, *len, *index)
          .offset(*offset)
          .build(),
        File::Fixed(slot) => opcode::WriteFixed::new(types::Fixed(*slot), *buf, *len, *index)
          .offset(*offset)
          .build(),
      },
      Op::Readv { fd, iov, offset } => opcode::Readv::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32)
        .offset(*offset)
        .build(),
      Op::Writev { fd, iov, offset } => opcode::Writev::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32)
        .offset(*offset)
        .build(),
      Op::OpenAt {
        dirfd,
        path,
        flags,
        mode,
        slot,
      } => opcode::OpenAt::new(types::Fd(*dirfd), path.as_ptr())
        // A slot is never inherited by exec, and the kernel refuses O_CLOEXEC with one (EINVAL).
        .flags(if slot.is_some() {
          *flags & !libc::O_CLOEXEC
        } else {
          *flags | libc::O_CLOEXEC
        })
        .mode(*mode)
        .file_index(slot.and_then(|s| types::DestinationSlot::try_from_slot_target(s).ok()))
        .build(),
      Op::Close { fd: File::Fd(fd) } => opcode::Close::new(types::Fd(*fd)).build(),
      Op::Close {
        fd: File::Fixed(slot),
      } => opcode::Close::new(types::Fixed(*slot)).build(),
      Op::Statx {
        dirfd,
        path,
        flags,
        mask,
        buf,
      } => opcode::Statx::new(types::Fd(*dirfd), path.as_ptr(), (*buf).cast::<types::statx>())
        .flags(*flags)
        .mask(*mask)
        .build(),
      Op::Fsync { fd, datasync } => {
        let flags = if *datasync {
          types::FsyncFlags::DATASYNC
        } else {
          types::FsyncFlags::empty()
        };
        opcode::Fsync::new(types::Fd(*fd)).flags(flags).build()
      }
      Op::UnlinkAt { dirfd, path, flags } => opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr())
        .flags(*flags)
        .build(),
      Op::RenameAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => opcode::RenameAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
      )
      .flags(*flags)
      .build(),
      Op::MkdirAt { dirfd, path, mode } => opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr())
        .mode(*mode)
        .build(),
      Op::SymlinkAt {
        target,
        newdirfd,
        linkpath,
      } => opcode::SymlinkAt::new(types::Fd(*newdirfd), target.as_ptr(), linkpath.as_ptr()).build(),
      Op::LinkAt {
        olddirfd,
        oldpath,
        newdirfd,
        newpath,
        flags,
      } => opcode::LinkAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
      )
      .flags(*flags)
      .build(),
      Op::Ftruncate { fd, len } => opcode::Ftruncate::new(types::Fd(*fd), *len).build(),
      Op::Fallocate {
        fd,
        mode,
        offset,
        len,
      } => opcode::Fallocate::new(types::Fd(*fd), *len)
        .offset(*offset)
        .mode(*mode)
        .build(),
      Op::Fadvise {
        fd: File::Fd(fd),
        offset,
        len,
        advice,
      } => opcode::Fadvise::new(types::Fd(*fd), *len, *advice)
        .offset(*offset)
        .build(),
      Op::Fadvise {
        fd: File::Fixed(slot),
        offset,
        len,
        advice,
      } => opcode::Fadvise::new(types::Fixed(*slot), *len, *advice)
        .offset(*offset)
        .build(),
      Op::Socket { domain, ty, protocol } => {
        opcode::Socket::new(*domain, *ty | libc::SOCK_CLOEXEC, *protocol).build()
      }
      Op::Bind { fd, addr } => opcode::Bind::new(types::Fd(*fd), addr.ptr(), addr.len).build(),
      Op::Listen { fd, backlog } => opcode::Listen::new(types::Fd(*fd), *backlog).build(),
      Op::Connect { fd, addr } => opcode::Connect::new(types::Fd(*fd), addr.ptr(), addr.len).build(),
      Op::Accept { fd, multishot: false } => {
        opcode::Accept::new(types::Fd(*fd), std::ptr::null_mut(), std::ptr::null_mut())
          .flags(libc::SOCK_CLOEXEC)
          .build()
      }
      Op::Accept { fd, multishot: true } => opcode::AcceptMulti::new(types::Fd(*fd))
        .flags(libc::SOCK_CLOEXEC)
        .build(),
      Op::Recv { fd, buf, len } => opcode::Recv::new(types::Fd(*fd), *buf, *len).build(),
      Op::RecvMulti { fd, group } => opcode::RecvMulti::new(types::Fd(*fd), *group).build(),
      Op::Send {
        fd,
        buf,
        len,
        zerocopy: false,
      } => opcode::Send::new(types::Fd(*fd), *buf, *len)
        .flags(libc::MSG_NOSIGNAL | libc::MSG_WAITALL)
        .build(),
      Op::Send {
        fd,
        buf,
        len,
        zerocopy: true,
      } => opcode::SendZc::new(types::Fd(*fd), *buf, *len)
        .flags(libc::MSG_NOSIGNAL | libc::MSG_WAITALL)
        .build(),
      Op::Shutdown { fd, how } => opcode::Shutdown::new(types::Fd(*fd), *how).build(),
    }
  }
}

/// Names of the ops, as the probe reports them to the layers above.
pub const OP_NAMES: &[(&str, u8)] = &[
  ("nop", opcode::Nop::CODE),
  ("read", opcode::Read::CODE),
  ("write", opcode::Write::CODE),
  ("read_fixed", opcode::ReadFixed::CODE),
  ("write_fixed", opcode::WriteFixed::CODE),
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
  ("socket", opcode::Socket::CODE),
  ("bind", opcode::Bind::CODE),
  ("listen", opcode::Listen::CODE),
  ("connect", opcode::Connect::CODE),
  ("accept", opcode::Accept::CODE),
  ("recv", opcode::Recv::CODE),
  ("send", opcode::Send::CODE),
  ("send_zc", opcode::SendZc::CODE),
  ("shutdown", opcode::Shutdown::CODE),
];
