//! Socket ops of `NativeRing`, and the socket syscalls made directly (addresses, options).

use crate::js;
use crate::native_ring::NativeRing;
use napi::bindgen_prelude::*;
use napi::{JsValue, Unknown};
use napi_derive::napi;
use uring_core::{Op, SockAddr};

#[napi]
impl NativeRing {
  /// `socket(domain, ty | SOCK_CLOEXEC, protocol)`; completes with the fd.
  #[napi]
  pub fn socket(&self, domain: i32, ty: i32, protocol: i32) -> Result<u32> {
    self.push(Op::Socket { domain, ty, protocol })
  }

  /// `bind(fd, addr)`: `family` 4 or 6 with an IP literal and a port, or 0 with a Unix path.
  #[napi]
  pub fn bind(&self, fd: i32, family: u32, address: String, port: u32) -> Result<u32> {
    let addr = sockaddr(family, &address, port)?;
    self.push(Op::Bind { fd, addr })
  }

  #[napi]
  pub fn listen(&self, fd: i32, backlog: i32) -> Result<u32> {
    self.push(Op::Listen { fd, backlog })
  }

  /// `connect(fd, addr)`, the address as for `bind`.
  #[napi]
  pub fn connect(&self, fd: i32, family: u32, address: String, port: u32) -> Result<u32> {
    let addr = sockaddr(family, &address, port)?;
    self.push(Op::Connect { fd, addr })
  }

  /// `accept4(fd, .., SOCK_CLOEXEC)`; `multishot`: one completion per connection, each flagged
  /// `IORING_CQE_F_MORE` (2) while the request stands.
  #[napi]
  pub fn accept(&self, fd: i32, multishot: bool) -> Result<u32> {
    self.push(Op::Accept { fd, multishot })
  }

  /// Registers `count` (a power of two) buffers of `size` bytes as provided-buffer group `group`.
  #[napi]
  pub fn add_buffer_group(&self, group: u32, count: u32, size: u32) -> Result<()> {
    let (group, count) = (u16::try_from(group), u16::try_from(count));
    let (Ok(group), Ok(count)) = (group, count) else {
      return Err(Error::new(
        Status::InvalidArg,
        "group and count must fit in 16 bits",
      ));
    };
    self.with(|st| {
      st.ring
        .add_buffer_group(group, count, size)
        .map_err(|e| Error::new(Status::GenericFailure, format!("provided buffers: {e}")))
    })
  }

  /// Multishot `recv` into buffers of `group`: one completion per chunk, its flags naming the
  /// buffer; take the bytes with `netHot()`'s `take`.
  #[napi]
  pub fn recv_multi(&self, fd: i32, group: u32) -> Result<u32> {
    let group =
      u16::try_from(group).map_err(|_| Error::new(Status::InvalidArg, "group must fit in 16 bits"))?;
    self.push(Op::RecvMulti { fd, group })
  }

  /// `send(fd, buffer[offset..offset + length], MSG_NOSIGNAL)`; `zerocopy`: `IORING_OP_SEND_ZC`,
  /// whose result completion (flagged MORE) is followed by a notification (flags 8) after which
  /// the buffer is released.
  #[napi(
    ts_args_type = "fd: number, buffer: ArrayBufferView, offset: number, length: number, zerocopy: boolean, own?: boolean"
  )]
  pub fn send(
    &self,
    fd: i32,
    buffer: Unknown,
    offset: u32,
    length: u32,
    zerocopy: bool,
    own: Option<bool>,
  ) -> Result<u32> {
    self.with(|st| {
      let (buf, keep) = st
        .pins
        .source(st.env, buffer.raw(), offset, length, own == Some(true))?;
      Ok(st.push(
        Op::Send {
          fd,
          buf,
          len: length,
          zerocopy,
        },
        keep,
      ))
    })
  }

  #[napi]
  pub fn shutdown(&self, fd: i32, how: i32) -> Result<u32> {
    self.push(Op::Shutdown { fd, how })
  }
}

/// A socket address from the binding's arguments: `family` 4 or 6 with an IP literal and a port,
/// or 0 with a Unix socket path.
pub(crate) fn sockaddr(family: u32, address: &str, port: u32) -> Result<SockAddr> {
  let bad = |what: &str| Error::new(Status::InvalidArg, format!("invalid {what}: {address}"));
  match family {
    0 => SockAddr::unix(address.as_bytes()).map_err(|_| bad("Unix socket path")),
    4 | 6 => {
      let port = u16::try_from(port).map_err(|_| bad("port"))?;
      let ip: std::net::IpAddr = address.parse().map_err(|_| bad("IP address"))?;
      if (family == 4) != ip.is_ipv4() {
        return Err(bad("address family"));
      }
      Ok(SockAddr::inet(&std::net::SocketAddr::new(ip, port)))
    }
    _ => Err(bad("address family")),
  }
}

/// The name of a socket (`peer`: its peer's): `[family, address, port]`, family 4, 6 or 0 (Unix,
/// the address being the path). Sync `getsockname`/`getpeername`; throws an Error with `errno`.
#[napi(ts_return_type = "[number, string, number]")]
pub fn sock_name(env: Env, fd: i32, peer: bool) -> Result<(u32, String, u32)> {
  // SAFETY: the call fills at most `len` bytes of a zeroed sockaddr_storage.
  let (ss, len) = unsafe {
    let mut ss: libc::sockaddr_storage = std::mem::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let p = (&mut ss as *mut libc::sockaddr_storage).cast();
    let r = if peer {
      libc::getpeername(fd, p, &mut len)
    } else {
      libc::getsockname(fd, p, &mut len)
    };
    if r != 0 {
      let e = std::io::Error::last_os_error();
      return Err(js::os_error(
        env.raw(),
        if peer { "getpeername" } else { "getsockname" },
        &e,
      ));
    }
    (ss, len as usize)
  };
  match ss.ss_family as i32 {
    libc::AF_INET => {
      // SAFETY: the kernel wrote a sockaddr_in.
      let sin = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
      let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
      Ok((4, ip.to_string(), u16::from_be(sin.sin_port) as u32))
    }
    libc::AF_INET6 => {
      // SAFETY: the kernel wrote a sockaddr_in6.
      let sin6 = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
      let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
      Ok((6, ip.to_string(), u16::from_be(sin6.sin6_port) as u32))
    }
    libc::AF_UNIX => {
      // SAFETY: the kernel wrote a sockaddr_un of `len` bytes.
      let un = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
      let n = len
        .saturating_sub(std::mem::size_of::<libc::sa_family_t>())
        .min(un.sun_path.len());
      let bytes: Vec<u8> = un.sun_path[..n]
        .iter()
        .map(|&c| c as u8)
        .take_while(|&c| c != 0)
        .collect();
      Ok((0, String::from_utf8_lossy(&bytes).into_owned(), 0))
    }
    f => Err(Error::new(
      Status::GenericFailure,
      format!("unknown address family {f}"),
    )),
  }
}

/// `setsockopt(fd, level, name, &value, 4)`, synchronous; throws an Error with `errno`.
#[napi]
pub fn set_sock_opt(env: Env, fd: i32, level: i32, name: i32, value: i32) -> Result<()> {
  // SAFETY: passes a pointer to a live i32 and its size.
  let r = unsafe {
    libc::setsockopt(
      fd,
      level,
      name,
      (&value as *const i32).cast(),
      std::mem::size_of::<i32>() as libc::socklen_t,
    )
  };
  if r != 0 {
    return Err(js::os_error(
      env.raw(),
      "setsockopt",
      &std::io::Error::last_os_error(),
    ));
  }
  Ok(())
}
