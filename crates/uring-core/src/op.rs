//! The operations the engine can run, and the memory each one hands to the kernel.
//!
//! An [`Op`] owns its paths and iovec arrays outright (heap allocations whose addresses do not
//! change when the `Op` is moved). Caller buffers appear as raw pointers: the caller proves their
//! validity once, when it hands the op to [`Ring::push`](crate::Ring::push) together with the value
//! that keeps them alive.

use std::ffi::CString;
use std::{fmt, io, mem, net};

use io_uring::{opcode, squeue, types};

use crate::listing::ListingCell;

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

/// Builds an op's SQE for its file, an fd or a slot of the registered file table: `$f` is
/// `types::Fd` or `types::Fixed` in `$sqe`.
macro_rules! on_file {
  ($fd:expr, $f:ident => $sqe:expr) => {
    match $fd {
      File::Fd(fd) => {
        let $f = types::Fd(*fd);
        $sqe
      }
      File::Fixed(slot) => {
        let $f = types::Fixed(*slot);
        $sqe
      }
    }
  };
}

/// The table of ops: one row each — the variant and its fields, the probe names of the opcodes
/// it may be submitted as, the opcode of this op, whether it stands (multishot), and its SQE —
/// from which come `Op`, `Op::opcode`, `Op::standing`, `Op::entry` and `OP_NAMES`. In each
/// expression the fields are bound by reference. Adding an op is adding a row (and, above, a
/// `NativeRing` method and a row of `packages/uring/src/ops.ts`: ARCHITECTURE.md, "Adding an op").
macro_rules! ops {
  ($(
    $(#[$doc:meta])*
    $name:ident $({ $($field:ident : $ty:ty),* $(,)? })?
      names [$($probe:literal = $code:ident),* $(,)?]
      opcode $opcode:expr ;
      standing $standing:expr ;
      sqe $sqe:expr ;
  )*) => {
    /// One I/O request. Fields named like the syscall's arguments.
    #[derive(Debug)]
    pub enum Op {
      $(
        $(#[$doc])*
        $name $({ $($field: $ty),* })?,
      )*
    }

    impl Op {
      /// The io_uring opcode this op is submitted as (for probing).
      #[allow(unused_variables)]
      pub fn opcode(&self) -> u8 {
        match self {
          $(Op::$name $({ $($field),* })? => $opcode,)*
        }
      }

      /// A multishot op: it stands in the kernel, posting completions, until it ends or is
      /// cancelled.
      #[allow(unused_variables)]
      pub fn standing(&self) -> bool {
        match self {
          $(Op::$name $({ $($field),* })? => $standing,)*
        }
      }

      /// Builds the SQE. The pointers it carries point into `self` (paths, iovecs) or at caller
      /// memory.
      #[allow(unused_variables)]
      pub(crate) fn entry(&self) -> squeue::Entry {
        match self {
          $(Op::$name $({ $($field),* })? => $sqe,)*
        }
      }
    }

    /// Names of the opcodes the ops use, as the probe reports them to the layers above (and
    /// `async_cancel`, which the ring itself submits).
    pub const OP_NAMES: &[(&str, u8)] = &[
      $($(($probe, opcode::$code::CODE),)*)*
      ("async_cancel", opcode::AsyncCancel::CODE),
    ];
  };
}

/// The probe names of the ops no io_uring opcode does, which a ring reports only with an
/// executor (see [`Op::executor_only`]).
pub const EXECUTOR_ONLY: &[&str] = &["readdir", "access", "chmod"];

impl Op {
  /// An op no io_uring opcode does (readdir, access, chmod): the executor runs it, or the
  /// owner's thread. Their rows name MSG_RING as their opcode (what the executor posts with),
  /// which no op the kernel runs does.
  pub fn executor_only(&self) -> bool {
    self.opcode() == opcode::MsgRingData::CODE
  }
}

/// `IORING_OP_SEND` and `SEND_ZC` both take these: MSG_NOSIGNAL (no SIGPIPE), MSG_WAITALL (see
/// [`Op::Send`]).
const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL | libc::MSG_WAITALL;

ops! {
  /// Does nothing; completes with 0. Used to test the engine and to wake a ring.
  Nop
    names ["nop" = Nop]
    opcode opcode::Nop::CODE;
    standing false;
    sqe opcode::Nop::new().build();

  /// `pread(fd, buf, len, offset)`; `offset == CURRENT_POSITION` reads at the file position.
  Read { fd: File, buf: *mut u8, len: u32, offset: u64 }
    names ["read" = Read]
    opcode opcode::Read::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::Read::new(f, *buf, *len).offset(*offset).build());

  /// `pwrite(fd, buf, len, offset)`; `offset == CURRENT_POSITION` writes at the file position.
  Write { fd: File, buf: *const u8, len: u32, offset: u64 }
    names ["write" = Write]
    opcode opcode::Write::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::Write::new(f, *buf, *len).offset(*offset).build());

  /// `Read` into memory the ring registered (`IORING_OP_READ_FIXED`): `buf..buf + len` lies
  /// inside registered buffer `index` (see [`Ring::register_buffer`](crate::Ring::register_buffer)).
  ReadFixed { fd: File, buf: *mut u8, len: u32, offset: u64, index: u16 }
    names ["read_fixed" = ReadFixed]
    opcode opcode::ReadFixed::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::ReadFixed::new(f, *buf, *len, *index).offset(*offset).build());

  /// `Write` from memory the ring registered (`IORING_OP_WRITE_FIXED`), as [`Op::ReadFixed`].
  WriteFixed { fd: File, buf: *const u8, len: u32, offset: u64, index: u16 }
    names ["write_fixed" = WriteFixed]
    opcode opcode::WriteFixed::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::WriteFixed::new(f, *buf, *len, *index).offset(*offset).build());

  /// `preadv(fd, iov, offset)`: the iovec array is owned here, the memory it points to by the caller.
  Readv { fd: i32, iov: Box<[libc::iovec]>, offset: u64 }
    names ["readv" = Readv]
    opcode opcode::Readv::CODE;
    standing false;
    sqe opcode::Readv::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32).offset(*offset).build();

  /// `pwritev(fd, iov, offset)`.
  Writev { fd: i32, iov: Box<[libc::iovec]>, offset: u64 }
    names ["writev" = Writev]
    opcode opcode::Writev::CODE;
    standing false;
    sqe opcode::Writev::new(types::Fd(*fd), iov.as_ptr(), iov.len() as u32).offset(*offset).build();

  /// `openat(dirfd, path, flags, mode)`; completes with the new fd, or, with `slot`, installs the
  /// file into that slot of the registered file table and completes with 0.
  OpenAt { dirfd: i32, path: CString, flags: i32, mode: u32, slot: Option<u32> }
    names ["openat" = OpenAt]
    opcode opcode::OpenAt::CODE;
    standing false;
    sqe opcode::OpenAt::new(types::Fd(*dirfd), path.as_ptr())
      // A slot is never inherited by exec, and the kernel refuses O_CLOEXEC with one (EINVAL).
      .flags(if slot.is_some() { *flags & !libc::O_CLOEXEC } else { *flags | libc::O_CLOEXEC })
      .mode(*mode)
      .file_index(slot.and_then(|s| types::DestinationSlot::try_from_slot_target(s).ok()))
      .build();

  /// `close(fd)`, or empties a slot of the registered file table.
  Close { fd: File }
    names ["close" = Close]
    opcode opcode::Close::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::Close::new(f).build());

  /// `statx(dirfd, path, flags, mask, buf)`; `buf` points at `size_of::<libc::statx>()` bytes.
  Statx { dirfd: i32, path: CString, flags: i32, mask: u32, buf: *mut u8 }
    names ["statx" = Statx]
    opcode opcode::Statx::CODE;
    standing false;
    sqe opcode::Statx::new(types::Fd(*dirfd), path.as_ptr(), (*buf).cast::<types::statx>())
      .flags(*flags)
      .mask(*mask)
      .build();

  /// The entries of directory `path` (relative to `dirfd`) into `out`: completes with their
  /// count. No io_uring opcode reads a directory: the ring's executor runs it (open → getdents64
  /// → close, see `listing.rs`), or, on a ring left without one, the owner's thread at the flush.
  /// Its probe name, `readdir`, stands for what the executor needs of the kernel: MSG_RING (a
  /// ring reports it only with an executor).
  Readdir { dirfd: i32, path: CString, out: ListingCell }
    names ["readdir" = MsgRingData]
    opcode opcode::MsgRingData::CODE;
    standing false;
    sqe unreachable!("readdir is never an SQE (fill_sq runs it)");

  /// `faccessat(dirfd, path, mode, 0)`: access(2)'s check. No io_uring opcode: the ring's
  /// executor runs it (or the owner's thread), as `Readdir`. Probed as `access`.
  Access { dirfd: i32, path: CString, mode: i32 }
    names ["access" = MsgRingData]
    opcode opcode::MsgRingData::CODE;
    standing false;
    sqe unreachable!("access is never an SQE (fill_sq runs it)");

  /// `fchmodat(dirfd, path, mode, 0)`: chmod(2). No io_uring opcode: as `Access`. Probed as `chmod`.
  Chmod { dirfd: i32, path: CString, mode: u32 }
    names ["chmod" = MsgRingData]
    opcode opcode::MsgRingData::CODE;
    standing false;
    sqe unreachable!("chmod is never an SQE (fill_sq runs it)");

  /// `fsync(fd)` or, with `datasync`, `fdatasync(fd)`.
  Fsync { fd: i32, datasync: bool }
    names ["fsync" = Fsync]
    opcode opcode::Fsync::CODE;
    standing false;
    sqe opcode::Fsync::new(types::Fd(*fd))
      .flags(if *datasync { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() })
      .build();

  /// `unlinkat(dirfd, path, flags)`; `flags = AT_REMOVEDIR` removes a directory.
  UnlinkAt { dirfd: i32, path: CString, flags: i32 }
    names ["unlinkat" = UnlinkAt]
    opcode opcode::UnlinkAt::CODE;
    standing false;
    sqe opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr()).flags(*flags).build();

  /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
  RenameAt { olddirfd: i32, oldpath: CString, newdirfd: i32, newpath: CString, flags: u32 }
    names ["renameat" = RenameAt]
    opcode opcode::RenameAt::CODE;
    standing false;
    sqe opcode::RenameAt::new(types::Fd(*olddirfd), oldpath.as_ptr(), types::Fd(*newdirfd), newpath.as_ptr())
      .flags(*flags)
      .build();

  /// `mkdirat(dirfd, path, mode)`.
  MkdirAt { dirfd: i32, path: CString, mode: u32 }
    names ["mkdirat" = MkDirAt]
    opcode opcode::MkDirAt::CODE;
    standing false;
    sqe opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr()).mode(*mode).build();

  /// `symlinkat(target, newdirfd, linkpath)`.
  SymlinkAt { target: CString, newdirfd: i32, linkpath: CString }
    names ["symlinkat" = SymlinkAt]
    opcode opcode::SymlinkAt::CODE;
    standing false;
    sqe opcode::SymlinkAt::new(types::Fd(*newdirfd), target.as_ptr(), linkpath.as_ptr()).build();

  /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`.
  LinkAt { olddirfd: i32, oldpath: CString, newdirfd: i32, newpath: CString, flags: i32 }
    names ["linkat" = LinkAt]
    opcode opcode::LinkAt::CODE;
    standing false;
    sqe opcode::LinkAt::new(types::Fd(*olddirfd), oldpath.as_ptr(), types::Fd(*newdirfd), newpath.as_ptr())
      .flags(*flags)
      .build();

  /// `ftruncate(fd, len)` (kernel 6.9).
  Ftruncate { fd: i32, len: u64 }
    names ["ftruncate" = Ftruncate]
    opcode opcode::Ftruncate::CODE;
    standing false;
    sqe opcode::Ftruncate::new(types::Fd(*fd), *len).build();

  /// `fallocate(fd, mode, offset, len)`.
  Fallocate { fd: i32, mode: i32, offset: u64, len: u64 }
    names ["fallocate" = Fallocate]
    opcode opcode::Fallocate::CODE;
    standing false;
    sqe opcode::Fallocate::new(types::Fd(*fd), *len).offset(*offset).mode(*mode).build();

  /// `posix_fadvise(fd, offset, len, advice)`.
  Fadvise { fd: File, offset: u64, len: i64, advice: i32 }
    names ["fadvise" = Fadvise]
    opcode opcode::Fadvise::CODE;
    standing false;
    sqe on_file!(fd, f => opcode::Fadvise::new(f, *len, *advice).offset(*offset).build());

  /// `socket(domain, ty | SOCK_CLOEXEC, protocol)` (5.19); completes with the new fd.
  Socket { domain: i32, ty: i32, protocol: i32 }
    names ["socket" = Socket]
    opcode opcode::Socket::CODE;
    standing false;
    sqe opcode::Socket::new(*domain, *ty | libc::SOCK_CLOEXEC, *protocol).build();

  /// `bind(fd, addr)` (6.11).
  Bind { fd: i32, addr: SockAddr }
    names ["bind" = Bind]
    opcode opcode::Bind::CODE;
    standing false;
    sqe opcode::Bind::new(types::Fd(*fd), addr.ptr(), addr.len).build();

  /// `listen(fd, backlog)` (6.11).
  Listen { fd: i32, backlog: i32 }
    names ["listen" = Listen]
    opcode opcode::Listen::CODE;
    standing false;
    sqe opcode::Listen::new(types::Fd(*fd), *backlog).build();

  /// `connect(fd, addr)`.
  Connect { fd: i32, addr: SockAddr }
    names ["connect" = Connect]
    opcode opcode::Connect::CODE;
    standing false;
    sqe opcode::Connect::new(types::Fd(*fd), addr.ptr(), addr.len).build();

  /// `accept4(fd, NULL, NULL, SOCK_CLOEXEC)`; completes with the new fd. `multishot` (5.19):
  /// one CQE per connection, with `IORING_CQE_F_MORE` while the request stands.
  Accept { fd: i32, multishot: bool }
    names ["accept" = Accept]
    opcode opcode::Accept::CODE;
    standing *multishot;
    sqe if *multishot {
      opcode::AcceptMulti::new(types::Fd(*fd)).flags(libc::SOCK_CLOEXEC).build()
    } else {
      opcode::Accept::new(types::Fd(*fd), std::ptr::null_mut(), std::ptr::null_mut())
        .flags(libc::SOCK_CLOEXEC)
        .build()
    };

  /// `recv(fd, buf, len, 0)`.
  Recv { fd: i32, buf: *mut u8, len: u32 }
    names ["recv" = Recv]
    opcode opcode::Recv::CODE;
    standing false;
    sqe opcode::Recv::new(types::Fd(*fd), *buf, *len).build();

  /// Multishot `recv` (6.0) into buffers of the ring's provided-buffer group `group` (see
  /// [`Ring::add_buffer_group`](crate::Ring::add_buffer_group)): one CQE per chunk received,
  /// naming its buffer (`IORING_CQE_F_BUFFER`), with `IORING_CQE_F_MORE` while the request stands.
  RecvMulti { fd: i32, group: u16 }
    names []
    opcode opcode::Recv::CODE;
    standing true;
    sqe opcode::RecvMulti::new(types::Fd(*fd), *group).build();

  /// `send(fd, buf, len, MSG_NOSIGNAL | MSG_WAITALL)`: on a stream socket io_uring goes on after
  /// a partial send until all of `buf` is sent or an error comes, so a result short of `len`
  /// means the connection failed (the caller need not come back to `buf` for the rest, which
  /// may no longer be there). `zerocopy` (6.0): `IORING_OP_SEND_ZC`, whose result CQE
  /// is followed by a notification CQE once the kernel no longer reads `buf`; the op (and what
  /// keeps `buf` alive) is released only with that last CQE.
  Send { fd: i32, buf: *const u8, len: u32, zerocopy: bool }
    names ["send" = Send, "send_zc" = SendZc]
    opcode if *zerocopy { opcode::SendZc::CODE } else { opcode::Send::CODE };
    standing false;
    sqe if *zerocopy {
      opcode::SendZc::new(types::Fd(*fd), *buf, *len).flags(SEND_FLAGS).build()
    } else {
      opcode::Send::new(types::Fd(*fd), *buf, *len).flags(SEND_FLAGS).build()
    };

  /// `shutdown(fd, how)` (5.11).
  Shutdown { fd: i32, how: i32 }
    names ["shutdown" = Shutdown]
    opcode opcode::Shutdown::CODE;
    standing false;
    sqe opcode::Shutdown::new(types::Fd(*fd), *how).build();
}
