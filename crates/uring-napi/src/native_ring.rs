//! `NativeRing`, the class the TypeScript layer drives: construction, file ops, cancellation,
//! fd ownership, stats. Chains are in `chains.rs`, sockets in `net.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue, Unknown};
use napi_derive::napi;
use uring_core::{File, Op, Options, Ring, SqPoll, AT_FDCWD};

use crate::hot::{bound, raw_rw, raw_send, raw_take, raw_try_send};
use crate::keep::{Keep, Pins};
use crate::state::{closed, position, register_arena, Cell, State, CREDENTIALS};
use crate::teardown::{destroy, destroy_ending, on_env_cleanup};
use crate::turn::{on_poll, on_prepare};
use crate::{js, uv};

/// How a ring is set up (the TypeScript `Ring`'s options, checked).
#[napi(object)]
pub struct NativeRingOptions {
  /// SQ size.
  pub entries: u32,
  /// Set for an SQPOLL ring: its kernel thread's idle time before it sleeps.
  pub sqpoll_idle_ms: Option<u32>,
  /// The CPU the SQPOLL thread is pinned to.
  pub sqpoll_cpu: Option<u32>,
  /// A submit thread (default: when more than one CPU is usable; ignored with SQPOLL).
  pub submitter: Option<bool>,
  /// Slots of the registered file table (0 or none: no table).
  pub files: Option<u32>,
  /// Threads that run the ops io_uring hands to io-wq (STATX, the path ops, writeFile's chain)
  /// with plain syscalls instead (0: none; default: see `executor_threads`).
  pub executor: Option<u32>,
}

/// The default number of executor threads (uring-core's `Options::executor`): one. Measured on 2
/// CPUs (benchmarks/RESULTS.md, 2026-12-03): stat of 10,000 files at 64 in flight ran 1.5-2x
/// faster with one thread than through io-wq, and two threads were slower than one (they and
/// the JS thread contend for two cores). Not measured on more CPUs, so not more there either.
/// `URING_EXECUTOR=<n>` sets it (0: none), for measuring.
fn executor_threads() -> u32 {
  std::env::var("URING_EXECUTOR")
    .ok()
    .and_then(|v| v.parse().ok())
    .unwrap_or(1)
}

/// Counters of one ring (see `Ring.stats()` in the TypeScript API).
#[napi(object)]
pub struct NativeStats {
  pub submitted: f64,
  pub completed: f64,
  pub enter_calls: f64,
  pub in_flight: u32,
  pub queued: u32,
  pub cq_overflows: f64,
  pub sq_wakeups: f64,
  pub registered_bytes: f64,
  pub fixed_ops: f64,
  /// Reads the JS thread did itself (from the page cache, `RWF_NOWAIT`) while the ring's
  /// submitter thread was busy.
  pub own_reads: f64,
  /// Socket sends the JS thread made itself (`send(2)`, MSG_DONTWAIT) with nothing in flight on
  /// the socket, on a ring whose kernel work runs on the JS thread anyway: no copy, no op.
  pub own_sends: f64,
  /// Ops the ring's executor threads ran with plain syscalls instead of the kernel's io-wq.
  pub executed: f64,
}

/// One io_uring instance bound to the calling thread's event loop. Internal: used by the
/// TypeScript `Ring`, which validates arguments first.
#[napi]
pub struct NativeRing {
  pub(crate) cell: Rc<Cell>,
  pub(crate) env: sys::napi_env,
  pub(crate) mode: &'static str,
  pub(crate) supported: Vec<&'static str>,
  pub(crate) files: u32,
}

#[napi]
impl NativeRing {
  /// A ring set up as `options` says. `on_complete(n)` is called with `n` triples written into
  /// `completions` (an Int32Array whose length is a multiple of 3).
  #[napi(
    constructor,
    ts_args_type = "options: NativeRingOptions, onComplete: (n: number) => void, completions: Int32Array"
  )]
  pub fn new(
    env: Env,
    options: NativeRingOptions,
    on_complete: Unknown,
    completions: Unknown,
  ) -> Result<Self> {
    let NativeRingOptions {
      entries,
      sqpoll_idle_ms,
      sqpoll_cpu,
      submitter,
      files,
      executor,
    } = options;
    let env = env.raw();
    let sqpoll = sqpoll_idle_ms.map(|idle_ms| SqPoll {
      idle_ms,
      cpu: sqpoll_cpu,
    });
    // By default a submitter thread only where it can run beside this one.
    let submitter =
      submitter.unwrap_or_else(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1));
    let mut ring: Ring<Keep> = Ring::new(Options {
      entries,
      sqpoll,
      submitter,
      files: files.unwrap_or(0),
      executor: executor.unwrap_or_else(executor_threads),
    })
    .map_err(|e| js::os_error(env, "io_uring_setup", &e))?;
    let view = js::view(env, completions.raw())?;
    let (slots, slot_count) = (view.data, view.len / 12);
    if slot_count == 0 {
      return Err(Error::new(Status::InvalidArg, "completions array too small"));
    }
    let mode = ring.mode().name();
    let supported = ring.supported_ops();
    let files = ring.files();
    let poll_fd = ring.poll_fd();
    let mut pins = Pins::default();
    let registered = register_arena(&mut ring, &supported, &mut pins);
    let state = State {
      env,
      ring,
      pins,
      handles: None,
      on_complete: js::strong(env, on_complete.raw())?,
      busy: true,
      completions: js::strong(env, completions.raw())?,
      slots: slots.cast(),
      slot_count,
      stat_area: None,
      async_ctx: js::async_context(env)?,
      cleanup: ptr::null_mut(),
      hook_arg: ptr::null(),
      handle_data: ptr::null(),
      owned_fds: HashMap::new(),
      sqpoll: mode == "sqpoll",
      credentials: CREDENTIALS.load(Ordering::Acquire),
      registered,
      fixed_ops: 0,
      own_reads: 0,
      own_sends: 0,
      listings: HashMap::new(),
    };
    let cell = Rc::new(RefCell::new(Some(state)));
    let data = Rc::into_raw(cell.clone());
    let handles = uv::Handles::start(
      js::uv_loop(env)?,
      poll_fd,
      data as *mut c_void,
      on_poll,
      on_prepare,
    );
    let handles = match handles {
      Ok(h) => h,
      Err(msg) => {
        // SAFETY: reclaims the Rc just leaked; no handle holds it.
        unsafe { drop(Rc::from_raw(data)) };
        destroy(&cell, None);
        return Err(Error::new(Status::GenericFailure, msg));
      }
    };
    let mut cleanup = ptr::null_mut();
    let hook_arg = Rc::into_raw(cell.clone());
    // SAFETY: the hook gets an Rc of its own, reclaimed when it runs, or by `destroy` when the
    // ring is destroyed first (which removes the hook).
    let s = unsafe {
      sys::napi_add_async_cleanup_hook(env, Some(on_env_cleanup), hook_arg as *mut c_void, &mut cleanup)
    };
    if s != sys::Status::napi_ok {
      return Err(Error::new(
        Status::GenericFailure,
        "napi_add_async_cleanup_hook failed",
      ));
    }
    {
      let mut b = cell.borrow_mut();
      let st = b.as_mut().expect("just made");
      st.handles = Some(handles);
      st.cleanup = cleanup;
      st.hook_arg = hook_arg;
      st.handle_data = data;
      st.sync_busy();
    }
    Ok(NativeRing {
      cell,
      env,
      mode,
      supported,
      files,
    })
  }

  /// How the ring was set up: `submitter`, `defer_taskrun`, `coop_taskrun`, `plain` or `sqpoll`.
  #[napi(getter)]
  pub fn mode(&self) -> &'static str {
    self.mode
  }

  /// Ops this kernel supports, by name (`read`, `openat`, ...).
  #[napi(getter)]
  pub fn supported_ops(&self) -> Vec<&'static str> {
    self.supported.clone()
  }

  /// Slots in the ring's registered file table (0: none), numbered from 0.
  #[napi(getter)]
  pub fn files(&self) -> u32 {
    self.files
  }

  /// `[read, write]`: this ring's hot-path functions, `(fd, buffer, offset, length, position)
  /// => token`, raw Node-API functions bound to the ring (cheaper per call than methods). A
  /// read's 6th argument `true` makes it direct (see [`keep`]).
  #[napi(
    ts_return_type = "[(fd: number, buffer: ArrayBufferView, offset: number, length: number, position: number, direct?: boolean) => number, (fd: number, buffer: ArrayBufferView, offset: number, length: number, position: number) => number]"
  )]
  pub fn hot(&self) -> Result<Vec<Unknown<'_>>> {
    let env = self.with(|st| Ok(st.env))?;
    Ok(vec![
      bound(env, c"read", raw_rw::<false>, &self.cell)?,
      bound(env, c"write", raw_rw::<true>, &self.cell)?,
    ])
  }

  /// `[send, take]`: this ring's socket hot-path functions, bound like `hot()`:
  /// `send(fd, buffer, offset, length) => token` and `take(group, flags, length, target)`.
  #[napi(
    ts_return_type = "[(fd: number, buffer: ArrayBufferView, offset: number, length: number, own?: boolean) => number, (group: number, flags: number, length: number, target: ArrayBufferView) => void, (fd: number, buffer: ArrayBufferView, offset: number, length: number) => number]"
  )]
  pub fn net_hot(&self) -> Result<Vec<Unknown<'_>>> {
    let env = self.with(|st| Ok(st.env))?;
    Ok(vec![
      bound(env, c"send", raw_send, &self.cell)?,
      bound(env, c"take", raw_take, &self.cell)?,
      bound(env, c"trySend", raw_try_send, &self.cell)?,
    ])
  }

  #[napi(ts_args_type = "fd: number, buffers: ArrayBufferView[], position: number")]
  pub fn readv(&self, fd: i32, buffers: Vec<Unknown>, position: i64) -> Result<u32> {
    self.with(|st| {
      let raw: Vec<_> = buffers.iter().map(|b| b.raw()).collect();
      let (iov, keep) = st.pins.dests(st.env, &raw)?;
      Ok(st.push(
        Op::Readv {
          fd,
          iov,
          offset: self::position(position),
        },
        keep,
      ))
    })
  }

  /// `own`: the buffers are the library's own copies (queued socket writes), written in place.
  #[napi(ts_args_type = "fd: number, buffers: ArrayBufferView[], position: number, own?: boolean")]
  pub fn writev(&self, fd: i32, buffers: Vec<Unknown>, position: i64, own: Option<bool>) -> Result<u32> {
    self.with(|st| {
      let raw: Vec<_> = buffers.iter().map(|b| b.raw()).collect();
      let (iov, keep) = st.pins.sources(st.env, &raw, own == Some(true))?;
      Ok(st.push(
        Op::Writev {
          fd,
          iov,
          offset: self::position(position),
        },
        keep,
      ))
    })
  }

  #[napi(ts_args_type = "path: string | Buffer, flags: number, mode: number")]
  pub fn openat(&self, path: Unknown, flags: i32, mode: u32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::OpenAt {
      dirfd: AT_FDCWD,
      path,
      flags,
      mode,
      slot: None,
    })
  }

  /// Closes `fd` (IORING_OP_CLOSE), forgetting it as owned in the same call: a thread ended
  /// between the two could neither leak the fd nor close its number again once reused.
  #[napi]
  pub fn close(&self, fd: i32) -> Result<u32> {
    self.with(|st| {
      st.owned_fds.remove(&fd);
      Ok(st.push(Op::Close { fd: File::Fd(fd) }, Keep::None))
    })
  }

  /// Forgets `fd` as owned and closes it now (close(2) on the JS thread), in one call: what a
  /// FileHandle collected, closed synchronously or given away does. Also on a destroyed ring,
  /// which owns nothing. Returns 0 or a negative errno.
  #[napi]
  pub fn close_owned_sync(&self, fd: i32) -> i32 {
    if let Some(st) = self.cell.borrow_mut().as_mut() {
      st.owned_fds.remove(&fd);
    }
    // SAFETY: close(2) touches no memory; the fd is the caller's (its handle's), now forgotten
    // by the ring, so the thread's end will not close its number again.
    if unsafe { libc::close(fd) } == 0 {
      0
    } else {
      -std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
    }
  }

  #[napi]
  pub fn fsync(&self, fd: i32, datasync: bool) -> Result<u32> {
    self.push(Op::Fsync { fd, datasync })
  }

  #[napi(ts_args_type = "path: string | Buffer, flags: number")]
  pub fn unlinkat(&self, path: Unknown, flags: i32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::UnlinkAt {
      dirfd: AT_FDCWD,
      path,
      flags,
    })
  }

  /// `access(path, mode)` on the ring's executor (no opcode): only where `supportedOps` has `access`.
  #[napi(ts_args_type = "path: string | Buffer, mode: number")]
  pub fn access(&self, path: Unknown, mode: i32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::Access {
      dirfd: AT_FDCWD,
      path,
      mode,
    })
  }

  /// `chmod(path, mode)` on the ring's executor (no opcode): only where `supportedOps` has `chmod`.
  #[napi(ts_args_type = "path: string | Buffer, mode: number")]
  pub fn chmod(&self, path: Unknown, mode: u32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::Chmod {
      dirfd: AT_FDCWD,
      path,
      mode,
    })
  }

  #[napi(ts_args_type = "oldpath: string | Buffer, newpath: string | Buffer")]
  pub fn renameat(&self, oldpath: Unknown, newpath: Unknown) -> Result<u32> {
    let (oldpath, newpath) = (
      js::path(self.env, oldpath.raw())?,
      js::path(self.env, newpath.raw())?,
    );
    self.push(Op::RenameAt {
      olddirfd: AT_FDCWD,
      oldpath,
      newdirfd: AT_FDCWD,
      newpath,
      flags: 0,
    })
  }

  #[napi(ts_args_type = "path: string | Buffer, mode: number")]
  pub fn mkdirat(&self, path: Unknown, mode: u32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::MkdirAt {
      dirfd: AT_FDCWD,
      path,
      mode,
    })
  }

  /// `symlinkat(target, AT_FDCWD, path)`: `target` is stored as given (not resolved).
  #[napi(ts_args_type = "target: string | Buffer, path: string | Buffer")]
  pub fn symlinkat(&self, target: Unknown, path: Unknown) -> Result<u32> {
    let (target, linkpath) = (js::path(self.env, target.raw())?, js::path(self.env, path.raw())?);
    self.push(Op::SymlinkAt {
      target,
      newdirfd: AT_FDCWD,
      linkpath,
    })
  }

  #[napi(ts_args_type = "oldpath: string | Buffer, newpath: string | Buffer")]
  pub fn linkat(&self, oldpath: Unknown, newpath: Unknown) -> Result<u32> {
    let (oldpath, newpath) = (
      js::path(self.env, oldpath.raw())?,
      js::path(self.env, newpath.raw())?,
    );
    self.push(Op::LinkAt {
      olddirfd: AT_FDCWD,
      oldpath,
      newdirfd: AT_FDCWD,
      newpath,
      flags: 0,
    })
  }

  /// `ftruncate(fd, len)`; `len` is a non-negative safe integer (checked by the caller).
  #[napi]
  pub fn ftruncate(&self, fd: i32, len: i64) -> Result<u32> {
    self.push(Op::Ftruncate {
      fd,
      len: non_negative(len)?,
    })
  }

  /// `fallocate(fd, mode, offset, len)`; `offset` and `len` are non-negative safe integers
  /// (checked by the caller).
  #[napi]
  pub fn fallocate(&self, fd: i32, mode: i32, offset: i64, len: i64) -> Result<u32> {
    let (offset, len) = (non_negative(offset)?, non_negative(len)?);
    self.push(Op::Fallocate {
      fd,
      mode,
      offset,
      len,
    })
  }

  /// `posix_fadvise(fd, offset, len, advice)` (`len` 0: to the end of the file).
  #[napi]
  pub fn fadvise(&self, fd: i32, offset: i64, len: i64, advice: i32) -> Result<u32> {
    let offset = non_negative(offset)?;
    self.push(Op::Fadvise {
      fd: File::Fd(fd),
      offset,
      len,
      advice,
    })
  }

  #[napi]
  pub fn nop(&self) -> Result<u32> {
    self.push(Op::Nop)
  }

  /// Asks the op `token` to finish early (`IORING_OP_ASYNC_CANCEL`); it still completes through
  /// `on_complete`, with -ECANCELED if it was stopped. False if `token` is not in flight.
  #[napi]
  pub fn cancel(&self, token: u32) -> Result<bool> {
    let mut b = self.cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?;
    st.ring
      .cancel(token)
      .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
  }

  /// Asks every in-flight op to finish early; each still completes through `on_complete`.
  #[napi]
  pub fn cancel_all(&self) -> Result<()> {
    let mut b = self.cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?;
    st.ring
      .cancel_all()
      .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
    st.sync_busy();
    Ok(())
  }

  /// Records `fd` as owned by an open FileHandle or socket of this ring (see `State::owned_fds`).
  #[napi]
  pub fn own_fd(&self, fd: i32) -> Result<()> {
    let mut b = self.cell.borrow_mut();
    b.as_mut().ok_or_else(closed)?.owned_fds.insert(fd, None);
    Ok(())
  }

  /// Forgets `fd`: its handle is closing it (called before the close is issued).
  #[napi]
  pub fn disown_fd(&self, fd: i32) -> Result<()> {
    let mut b = self.cell.borrow_mut();
    b.as_mut().ok_or_else(closed)?.owned_fds.remove(&fd);
    Ok(())
  }

  #[napi]
  pub fn stats(&self) -> Result<NativeStats> {
    let b = self.cell.borrow();
    let st = b.as_ref().ok_or_else(closed)?;
    let s = st.ring.stats();
    Ok(NativeStats {
      registered_bytes: st.registered as f64,
      fixed_ops: st.fixed_ops as f64,
      own_reads: st.own_reads as f64,
      own_sends: st.own_sends as f64,
      submitted: s.submitted as f64,
      completed: s.completed as f64,
      enter_calls: s.enter_calls as f64,
      in_flight: s.in_flight,
      queued: s.queued,
      cq_overflows: s.cq_overflows as f64,
      sq_wakeups: s.sq_wakeups as f64,
      executed: s.executed as f64,
    })
  }

  /// Frees the ring. Ops still in flight are cancelled and drained first (blocking, bounded);
  /// their completions are not delivered. The TypeScript `close()` drains asynchronously first.
  #[napi]
  pub fn destroy(&self) {
    destroy(&self.cell, None);
  }
}

impl NativeRing {
  /// Refuses, before anything is pushed, a chain of `n` ops that the SQ cannot hold.
  pub(crate) fn chain_fits(st: &State, n: u32) -> Result<()> {
    if n > st.ring.sq_entries() {
      return Err(Error::new(
        Status::InvalidArg,
        "a chain may not be longer than the submission queue",
      ));
    }
    Ok(())
  }

  pub(crate) fn end(st: &mut State) -> Result<()> {
    let r = st.ring.end_chain();
    let _ = st.ring.publish();
    st.sync_busy();
    r.map_err(|_| {
      Error::new(
        Status::InvalidArg,
        "a chain may not be longer than the submission queue",
      )
    })
  }

  /// Runs `f` on the ring's state; "ring is closed" once destroyed.
  pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
    let mut b = self.cell.borrow_mut();
    f(b.as_mut().ok_or_else(closed)?.live()?)
  }

  pub(crate) fn push(&self, op: Op) -> Result<u32> {
    self.with(|st| Ok(st.push(op, Keep::None)))
  }
}

impl Drop for NativeRing {
  /// The JS object was collected. While ops are in flight the completion function, which
  /// reaches this object, is held strongly, so that happens only when idle — or when the env is
  /// torn down (a worker terminated), which runs every finalizer, and on Node 24 sometimes before
  /// the ring's cleanup hook: then, as there, the open FileHandles' and sockets' fds are closed.
  fn drop(&mut self) {
    let busy = self
      .cell
      .borrow()
      .as_ref()
      .is_some_and(|st| st.ring.in_flight() > 0);
    destroy_ending(&self.cell, None, busy);
  }
}

fn non_negative(n: i64) -> Result<u64> {
  u64::try_from(n).map_err(|_| Error::new(Status::InvalidArg, "offsets and lengths must not be negative"))
}
