//! Socket ops through the engine: socket/bind/listen/connect, multishot accept, multishot recv
//! into a provided-buffer group, send and zero-copy send, shutdown. On both an inline ring and
//! one with a submit thread.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use uring_core::{buffer_id, Completion, Op, Options, Ring, SockAddr};

/// Completions reaped but not yet looked at, shared by `until` and `one` so that none is lost
/// (a standing accept completes while a connect is being waited for).
struct Harness<T> {
  ring: Ring<T>,
  reaped: Vec<Completion<T>>,
}

impl<T: Default> Harness<T> {
  fn new(options: Options) -> Harness<T> {
    Harness {
      ring: Ring::new(options).unwrap(),
      reaped: Vec::new(),
    }
  }

  /// Reaps until `pred` holds over the completions not yet taken (panics after 5 s).
  fn until(&mut self, pred: impl Fn(&[Completion<T>]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pred(&self.reaped) {
      assert!(
        Instant::now() < deadline,
        "timed out; reaped {:?}",
        self
          .reaped
          .iter()
          .map(|c| (c.token, c.result, c.flags))
          .collect::<Vec<_>>()
      );
      let _ = self.ring.flush();
      let reaped = &mut self.reaped;
      if self.ring.reap(usize::MAX, |c| reaped.push(c)) == 0 {
        std::thread::sleep(Duration::from_micros(200));
      }
    }
  }

  /// Takes every completion of `token` reaped so far.
  fn take(&mut self, token: u32) -> Vec<Completion<T>> {
    let (mine, rest) = std::mem::take(&mut self.reaped)
      .into_iter()
      .partition(|c| c.token == token);
    self.reaped = rest;
    mine
  }

  /// Pushes an op that points at no caller memory.
  fn push(&mut self, op: Op) -> u32 {
    // SAFETY: the ops pushed through here point at no caller memory, or at memory the test
    // keeps alive until the op's final completion.
    unsafe { self.ring.push(op, T::default()) }
  }

  /// Pushes one op and waits for its final completion's result.
  fn one(&mut self, op: Op) -> i32 {
    let t = self.push(op);
    self.until(|s| s.iter().any(|c| c.token == t && c.done.is_some()));
    self.take(t).last().unwrap().result
  }
}

fn local_port(fd: i32) -> u16 {
  // SAFETY: getsockname into a zeroed sockaddr_in of the right length.
  unsafe {
    let mut sin: libc::sockaddr_in = std::mem::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    assert_eq!(
      libc::getsockname(fd, (&mut sin as *mut libc::sockaddr_in).cast(), &mut len),
      0
    );
    u16::from_be(sin.sin_port)
  }
}

fn close(fd: i32) {
  // SAFETY: closes an fd this test opened.
  unsafe { libc::close(fd) };
}

fn tcp_socket<T: Default>(h: &mut Harness<T>) -> i32 {
  let fd = h.one(Op::Socket {
    domain: libc::AF_INET,
    ty: libc::SOCK_STREAM,
    protocol: 0,
  });
  assert!(fd >= 0, "socket: {fd}");
  fd
}

fn listener<T: Default>(h: &mut Harness<T>) -> (i32, u16) {
  let fd = tcp_socket(h);
  let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
  assert_eq!(
    h.one(Op::Bind {
      fd,
      addr: SockAddr::inet(&addr)
    }),
    0
  );
  assert_eq!(h.one(Op::Listen { fd, backlog: 16 }), 0);
  (fd, local_port(fd))
}

fn echo_flow(submitter: bool) {
  let mut h: Harness<Vec<u8>> = Harness::new(Options {
    entries: 32,
    submitter,
    ..Options::default()
  });
  for op in [
    "socket", "bind", "listen", "connect", "accept", "recv", "send", "send_zc", "shutdown",
  ] {
    assert!(h.ring.supported_ops().contains(&op), "{op}");
  }
  let (server, port) = listener(&mut h);
  let accept = h.push(Op::Accept {
    fd: server,
    multishot: true,
  });
  let mut clients = Vec::new();
  for _ in 0..3 {
    let c = tcp_socket(&mut h);
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert_eq!(
      h.one(Op::Connect {
        fd: c,
        addr: SockAddr::inet(&to)
      }),
      0
    );
    clients.push(c);
  }
  // One standing accept, one CQE per connection, each with F_MORE and no release of the op.
  h.until(|s| s.iter().filter(|c| c.token == accept).count() == 3);
  let accepts = h.take(accept);
  let accepted: Vec<i32> = accepts.iter().map(|c| c.result).collect();
  assert!(accepted.iter().all(|&fd| fd >= 0), "{accepted:?}");
  assert!(accepts
    .iter()
    .all(|c| io_uring::cqueue::more(c.flags) && c.done.is_none()));

  // Multishot recv of the first connection into a provided-buffer group.
  h.ring.add_buffer_group(7, 8, 4096).unwrap();
  assert_eq!(
    h.ring.add_buffer_group(7, 8, 4096).unwrap_err().raw_os_error(),
    Some(libc::EEXIST)
  );
  let mut recv = h.push(Op::RecvMulti {
    fd: accepted[0],
    group: 7,
  });
  let small = b"hello over io_uring".to_vec();
  let big: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
  // SAFETY: each Vec is the op's keep: its heap memory lives until the op's final CQE.
  let s1 = unsafe {
    h.ring.push(
      Op::Send {
        fd: clients[0],
        buf: small.as_ptr(),
        len: small.len() as u32,
        zerocopy: false,
      },
      small.clone(),
    )
  };
  let s2 = unsafe {
    h.ring.push(
      Op::Send {
        fd: clients[0],
        buf: big.as_ptr(),
        len: big.len() as u32,
        zerocopy: true,
      },
      big.clone(),
    )
  };
  let mut received = Vec::new();
  let want = small.len() + big.len();
  let mut rearmed = 0;
  // A token is free for reuse once its op's final CQE is reaped, so each op's completions are
  // taken as they come, and a finished op's token is not looked for again.
  let (mut send1, mut zc) = (Vec::new(), Vec::new());
  let collect =
    |h: &mut Harness<Vec<u8>>, send1: &mut Vec<Completion<Vec<u8>>>, zc: &mut Vec<Completion<Vec<u8>>>| {
      if !send1.iter().any(|c: &Completion<Vec<u8>>| c.done.is_some()) {
        send1.extend(h.take(s1));
      }
      if !zc.iter().any(|c: &Completion<Vec<u8>>| c.done.is_some()) {
        zc.extend(h.take(s2));
      }
    };
  while received.len() < want {
    h.until(|s| s.iter().any(|c| c.token == recv));
    collect(&mut h, &mut send1, &mut zc);
    let mut ended = false;
    for c in h.take(recv) {
      if c.result > 0 {
        let bid = buffer_id(c.flags).expect("a provided buffer");
        received.extend_from_slice(h.ring.buffer(7, bid, c.result as usize).unwrap());
        assert!(h.ring.recycle_buffer(7, bid));
      }
      if c.done.is_some() {
        // The kernel ended the request: 8 buffers of 4 KiB can run dry under 64 KiB (ENOBUFS).
        assert_eq!(c.result, -libc::ENOBUFS, "recv ended with {}", c.result);
        ended = true;
      } else {
        assert!(io_uring::cqueue::more(c.flags));
      }
    }
    if ended {
      recv = h.push(Op::RecvMulti {
        fd: accepted[0],
        group: 7,
      });
      rearmed += 1;
      assert!(rearmed < 100);
    }
  }
  assert_eq!(&received[..small.len()], &small[..]);
  assert_eq!(&received[small.len()..], &big[..]);
  while !(send1.iter().any(|c| c.done.is_some()) && zc.iter().any(|c| c.done.is_some())) {
    h.until(|s| !s.is_empty());
    collect(&mut h, &mut send1, &mut zc);
  }
  assert_eq!(send1.len(), 1);
  assert_eq!(send1[0].result, small.len() as i32);
  // Zero-copy: the result CQE (F_MORE, op still owned), then the notification that releases it.
  assert_eq!(zc.len(), 2, "result and notification");
  assert_eq!(zc[0].result, big.len() as i32);
  assert!(zc[0].done.is_none() && io_uring::cqueue::more(zc[0].flags));
  assert!(io_uring::cqueue::notif(zc[1].flags) && zc[1].done.is_some());

  // Half-close: the recv sees the end of the stream (0) and stops standing.
  assert_eq!(
    h.one(Op::Shutdown {
      fd: clients[0],
      how: libc::SHUT_WR
    }),
    0
  );
  h.until(|s| s.iter().any(|c| c.token == recv && c.done.is_some()));
  assert_eq!(h.take(recv).last().unwrap().result, 0);

  // Cancelling the standing accept ends it with one final CQE.
  assert!(h.ring.cancel(accept).unwrap());
  h.until(|s| s.iter().any(|c| c.token == accept && c.done.is_some()));
  assert_eq!(h.take(accept).last().unwrap().result, -libc::ECANCELED);
  assert_eq!(h.ring.in_flight(), 0);
  for fd in clients.into_iter().chain(accepted).chain([server]) {
    close(fd);
  }
}

#[test]
fn tcp_accept_recv_send_shutdown_inline() {
  echo_flow(false);
}

#[test]
fn tcp_accept_recv_send_shutdown_with_submit_thread() {
  echo_flow(true);
}

#[test]
fn a_multishot_recv_ends_with_enobufs_when_the_group_runs_dry_and_can_be_rearmed() {
  let mut h: Harness<Vec<u8>> = Harness::new(Options {
    entries: 16,
    submitter: false,
    ..Options::default()
  });
  let mut fds = [0i32; 2];
  // SAFETY: socketpair fills two fds.
  assert_eq!(
    unsafe {
      libc::socketpair(
        libc::AF_UNIX,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
        0,
        fds.as_mut_ptr(),
      )
    },
    0
  );
  h.ring.add_buffer_group(1, 2, 16).unwrap();
  let data: Vec<u8> = (0..100u8).collect();
  assert_eq!(
    h.one(Op::Send {
      fd: fds[1],
      buf: data.as_ptr(),
      len: 100,
      zerocopy: false
    }),
    100
  );
  let mut got = Vec::new();
  let mut arms = 0;
  let mut t = 0;
  while got.len() < 100 {
    arms += 1;
    assert!(arms < 20);
    t = h.push(Op::RecvMulti { fd: fds[0], group: 1 });
    // An arm ends when the group runs dry (two buffers of 16 bytes, none given back meanwhile),
    // or stands waiting once everything sent has arrived.
    let mut bids = Vec::new();
    let mut ended = false;
    while !ended && got.len() < 100 {
      h.until(|s| s.iter().any(|c| c.token == t));
      for c in h.take(t) {
        if c.result > 0 {
          let bid = buffer_id(c.flags).unwrap();
          got.extend_from_slice(h.ring.buffer(1, bid, c.result as usize).unwrap());
          bids.push(bid);
        }
        if c.done.is_some() {
          assert_eq!(c.result, -libc::ENOBUFS, "after {} bytes", got.len());
          ended = true;
        }
      }
    }
    for bid in bids {
      assert!(h.ring.recycle_buffer(1, bid));
    }
  }
  // The last arm stands (no data left to fill a buffer): cancelling ends it.
  assert!(h.ring.cancel(t).unwrap());
  h.until(|s| s.iter().any(|c| c.token == t && c.done.is_some()));
  assert_eq!(h.take(t).last().unwrap().result, -libc::ECANCELED);
  assert_eq!(got, data);
  assert!(
    arms >= 4,
    "100 bytes through 2 buffers of 16 take several arms ({arms})"
  );
  assert!(!h.ring.recycle_buffer(1, 2));
  assert!(!h.ring.recycle_buffer(9, 0));
  close(fds[0]);
  close(fds[1]);
}

#[test]
fn unix_addresses_and_refused_connects() {
  assert!(SockAddr::unix(b"").is_err());
  assert!(SockAddr::unix(b"a\0b").is_err());
  assert!(SockAddr::unix(&[b'x'; 108]).is_err());
  assert_eq!(SockAddr::unix(b"\0abstract").unwrap().family(), libc::AF_UNIX);
  let mut h: Harness<Vec<u8>> = Harness::new(Options {
    entries: 8,
    submitter: false,
    ..Options::default()
  });
  let dir = std::env::temp_dir().join(format!("uring-net-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join("sock");
  let _ = std::fs::remove_file(&path);
  let unix = |h: &mut Harness<Vec<u8>>| {
    h.one(Op::Socket {
      domain: libc::AF_UNIX,
      ty: libc::SOCK_STREAM,
      protocol: 0,
    })
  };
  let addr = || SockAddr::unix(path.to_str().unwrap().as_bytes()).unwrap();
  let server = unix(&mut h);
  assert_eq!(
    h.one(Op::Bind {
      fd: server,
      addr: addr()
    }),
    0
  );
  assert_eq!(
    h.one(Op::Listen {
      fd: server,
      backlog: 4
    }),
    0
  );
  let client = unix(&mut h);
  assert_eq!(
    h.one(Op::Connect {
      fd: client,
      addr: addr()
    }),
    0
  );
  let accepted = h.one(Op::Accept {
    fd: server,
    multishot: false,
  });
  assert!(accepted >= 0);
  let mut buf = vec![0u8; 8];
  assert_eq!(
    h.one(Op::Send {
      fd: client,
      buf: b"ping".as_ptr(),
      len: 4,
      zerocopy: false
    }),
    4
  );
  assert_eq!(
    h.one(Op::Recv {
      fd: accepted,
      buf: buf.as_mut_ptr(),
      len: 8
    }),
    4
  );
  assert_eq!(&buf[..4], b"ping");
  // Nobody listens on a missing path; a TCP port nobody listens on refuses.
  let lonely = unix(&mut h);
  let nowhere = SockAddr::unix(dir.join("missing").to_str().unwrap().as_bytes()).unwrap();
  assert_eq!(
    h.one(Op::Connect {
      fd: lonely,
      addr: nowhere
    }),
    -libc::ENOENT
  );
  let (tcp, port) = listener(&mut h);
  close(tcp);
  let t = tcp_socket(&mut h);
  let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
  assert_eq!(
    h.one(Op::Connect {
      fd: t,
      addr: SockAddr::inet(&to)
    }),
    -libc::ECONNREFUSED
  );
  // IPv6 loopback, when the host has it.
  let v6 = h.one(Op::Socket {
    domain: libc::AF_INET6,
    ty: libc::SOCK_STREAM,
    protocol: 0,
  });
  if v6 >= 0 {
    let any6: SocketAddr = "[::1]:0".parse().unwrap();
    let r = h.one(Op::Bind {
      fd: v6,
      addr: SockAddr::inet(&any6),
    });
    assert!(r == 0 || r == -libc::EADDRNOTAVAIL, "bind ::1: {r}");
    close(v6);
  }
  for fd in [server, client, accepted, lonely, t] {
    close(fd);
  }
  let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn standing_multishot_ops_do_not_hold_other_ops_back() {
  // A ring of 8 entries (cap 8) with 40 standing recvs: other ops still go through.
  let mut h: Harness<Vec<u8>> = Harness::new(Options {
    entries: 8,
    submitter: false,
    ..Options::default()
  });
  h.ring.add_buffer_group(3, 64, 256).unwrap();
  let mut pairs = Vec::new();
  let mut recvs = Vec::new();
  for _ in 0..40 {
    let mut fds = [0i32; 2];
    // SAFETY: socketpair fills two fds.
    assert_eq!(
      unsafe {
        libc::socketpair(
          libc::AF_UNIX,
          libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
          0,
          fds.as_mut_ptr(),
        )
      },
      0
    );
    recvs.push(h.push(Op::RecvMulti { fd: fds[0], group: 3 }));
    pairs.push(fds);
  }
  for _ in 0..20 {
    assert_eq!(h.one(Op::Nop), 0);
  }
  // And the standing ones still receive.
  let last = pairs[39];
  assert_eq!(
    h.one(Op::Send {
      fd: last[1],
      buf: b"x".as_ptr(),
      len: 1,
      zerocopy: false
    }),
    1
  );
  let t = recvs[39];
  h.until(|s| s.iter().any(|c| c.token == t));
  assert_eq!(h.take(t)[0].result, 1);
  for t in recvs {
    h.ring.cancel(t).unwrap();
  }
  let left = h.ring.drain(Duration::from_secs(5), |_| {});
  assert_eq!(left, 0);
  for [a, b] in pairs {
    close(a);
    close(b);
  }
}
