//! The napi-rs binding of `uring-core`. Layers: `crates/uring-core` (the engine) → this crate
//! (argument conversion, event-loop integration, references to JS buffers) → `packages/uring`
//! (the TypeScript API, the `node:fs` fallback, the docs).
//!
//! How a completion reaches JavaScript: ops are pushed into the engine from JS calls and return a
//! token; each op is published at once where another thread submits (the engine's submit thread,
//! or SQPOLL's), and a `uv_prepare` flushes the rest once per loop turn; a `uv_poll` on the ring's
//! wake-up fd reaps completions; reaped `(token, result, flags)` triples are written into an
//! `Int32Array` that JS allocated, and one JS function is called per batch through
//! `napi_make_callback`, so that promise reactions run at once. Completions are only ever
//! handled on the JS thread; no threadsafe functions, no external buffers.
//!
//! Who owns memory the kernel touches: the engine, through [`Keep`] — memory of the op's own
//! that JS buffers are copied into (writes) or out of (reads, at completion), or, for memory JS
//! cannot take away (SharedArrayBuffers, buffers the library just allocated), a strong reference
//! (see [`keep`]) — held until the op's final CQE.

mod chunk;
mod js;
mod keep;
mod uv;

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chunk::Arena;
use keep::{Keep, Pins};
use napi::bindgen_prelude::*;
use napi::{sys, JsValue, Unknown};
use napi_derive::napi;
use uring_core::{buffer_id, Completion, File, Op, Options, Ring, SockAddr, SqPoll, AT_FDCWD};

/// How long closing a ring (or its thread exiting) waits for cancelled ops to complete before it
/// leaks, rather than frees, whatever the kernel still holds.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// When each batch's reactions submit ops that complete at once, one loop turn goes on
/// delivering them for at most this many batches and this many completions (about a millisecond
/// of 4 KiB reads); then it yields to the rest of the event loop (timers, sockets).
const TURN_ROUNDS: u32 = 16;
/// How long a turn waits, spinning, for completions a submitter thread is about to post before
/// it gives the loop back (see `Ring::wait_imminent`).
const IMMINENT: Duration = Duration::from_micros(20);
const TURN_COMPLETIONS: usize = 1024;

struct State {
  env: sys::napi_env,
  ring: Ring<Keep>,
  /// The references every in-flight op's `Keep` counts on.
  pins: Pins,
  handles: Option<uv::Handles>,
  /// The JS completion function: strong while ops are in flight, weak when idle so an unused
  /// ring can be garbage-collected.
  on_complete: sys::napi_ref,
  busy: bool,
  /// The JS-allocated Int32Array completions are written into, `[token, result, flags]` each.
  completions: sys::napi_ref,
  slots: *mut i32,
  slot_count: usize,
  async_ctx: sys::napi_async_context,
  cleanup: sys::napi_async_cleanup_hook_handle,
  /// The `Rc` handed to the cleanup hook, reclaimed here if the ring is destroyed first.
  hook_arg: *const Cell,
  /// `handle->data` of both uv handles: one `Rc` leaked into them, reclaimed on destroy.
  handle_data: *const Cell,
  /// Fds of this ring's open FileHandles and sockets (`ownFd`/`disownFd`): closed if the thread
  /// ends (a worker terminated) before JavaScript closed them, as Node closes its FileHandles.
  owned_fds: HashSet<i32>,
  /// An SQPOLL ring: its ops run with the credentials of its kernel thread unless told otherwise.
  sqpoll: bool,
  /// The value of [`CREDENTIALS`] this ring's ops were last set up for.
  credentials: u32,
  /// Bytes of the arena registered as the ring's fixed buffer (0: refused, see `chunk.rs`).
  registered: usize,
  /// Reads and writes that went through registered memory (READ_FIXED/WRITE_FIXED).
  fixed_ops: u64,
}

/// Bumped each time the process changes credentials (`credentialsChanged`, called by the
/// TypeScript layer after `process.setuid` and the like): SQPOLL rings then register the new
/// ones as a personality before their next op (see [`State::live`]).
static CREDENTIALS: AtomicU32 = AtomicU32::new(0);

/// The process changed its credentials (uid, gid, groups): no SQPOLL ring of any thread may run
/// another op with the old ones. Called by the TypeScript layer after `process.setuid`,
/// `seteuid`, `setgid`, `setegid`, `setgroups` and `initgroups`.
#[napi]
pub fn credentials_changed() {
  CREDENTIALS.fetch_add(1, Ordering::AcqRel);
}

type Cell = RefCell<Option<State>>;

impl State {
  /// Before a new op: an SQPOLL ring whose process changed credentials since its last op takes
  /// on this thread's current ones (a personality every SQE names from now on); if it cannot,
  /// the op is refused rather than run with the old ones.
  fn live(&mut self) -> Result<&mut State> {
    if self.sqpoll {
      let now = CREDENTIALS.load(Ordering::Acquire);
      if now != self.credentials {
        self.ring.adopt_credentials().map_err(|e| {
          Error::new(
            Status::GenericFailure,
            format!("the ring could not take on the process's new credentials: {e}"),
          )
        })?;
        self.credentials = now;
      }
    }
    Ok(self)
  }

  /// Keeps the loop (and the JS side) alive exactly while the ring owns ops.
  fn sync_busy(&mut self) {
    let busy = self.ring.in_flight() > 0;
    if busy != self.busy {
      self.busy = busy;
      if let Some(h) = &mut self.handles {
        h.set_referenced(busy);
      }
      js::set_strong(self.env, self.on_complete, busy);
    }
  }

  /// Hands `op` and what keeps its memory alive to the ring; returns its token.
  fn push(&mut self, op: Op, keep: Keep) -> u32 {
    // SAFETY: every pointer in `op` points either into memory `keep` owns (`Keep::Owned`: a heap
    // chunk that does not move and that nothing else frees), or into a view that no JS can take
    // away — a SharedArrayBuffer's (never detached, never shrunk) or a direct read's buffer, which
    // the library allocated and no user code has seen — whose ArrayBuffer `keep` holds a strong
    // reference to (made right after reading the pointer, with no JS run in between). The ring
    // releases `keep` only after the op's final CQE (the contract of `Ring::push`), and `Pins`
    // deletes a reference only when no op counts on it. See `keep.rs`.
    let token = unsafe { self.ring.push(op, keep) };
    // Errors leave the op queued: retried every turn, cancelled by close.
    let _ = self.ring.publish();
    self.sync_busy();
    token
  }

  /// End of a loop turn: drop references no op needs any more, and ref or unref the loop.
  fn end_turn(&mut self) {
    self.pins.sweep(self.env);
    self.sync_busy();
  }

  fn flush(&mut self) {
    if self.ring.needs_flush() {
      // Non-transient errors leave ops queued; they are retried every turn and cancelled by close.
      let _ = self.ring.flush();
    }
  }

  /// Reaps up to one completion array's worth, releasing each finished op's memory (a read's
  /// bytes are copied out into its JS buffer first, when it went through memory of its own).
  fn reap_into_slots(&mut self) -> usize {
    let (env, slots, max) = (self.env, self.slots, self.slot_count);
    let pins = &mut self.pins;
    let ring = &mut self.ring;
    let mut i = 0;
    // Copying out looks up ArrayBuffers: handles need a scope (this runs from libuv callbacks).
    js::with_scope(env, || {
      ring.reap(max, |c: Completion<Keep>| {
        // SAFETY: `slots` points at the JS-allocated Int32Array of `3 * max` elements that
        // `completions` keeps alive; `i < max` because reap hands at most `max` completions.
        unsafe {
          *slots.add(3 * i) = c.token as i32;
          *slots.add(3 * i + 1) = c.result;
          *slots.add(3 * i + 2) = c.flags as i32;
        }
        i += 1;
        if let Some((op, keep)) = c.done {
          fix_position(&op, c.result);
          pins.release_all(env, keep, Some(c.result));
        }
      })
    })
  }
}

/// One loop turn's work: flush, then deliver completions batch by batch, then flush what their
/// promise reactions queued, so that nothing waits unsubmitted while the loop blocks.
fn turn(cell: &Cell, woken: bool) {
  {
    let mut b = cell.borrow_mut();
    let Some(st) = b.as_mut() else { return };
    if woken {
      st.ring.clear_wakeup();
    }
    st.flush();
  }
  let (mut rounds, mut delivered) = (0, 0);
  loop {
    let call = {
      let mut b = cell.borrow_mut();
      let Some(st) = b.as_mut() else { return };
      let mut n = st.reap_into_slots();
      // Nothing yet, but a submitter thread is inside the syscall that completes what it
      // submits: wait for that rather than sleep in the loop and be woken (see IMMINENT).
      if n == 0 && st.ring.wait_imminent(IMMINENT) {
        n = st.reap_into_slots();
      }
      if n == 0 {
        st.flush();
        st.end_turn();
        return;
      }
      (st.env, st.async_ctx, st.on_complete, n, n == st.slot_count)
    };
    // No borrow is held while JS runs: it may push ops, or close the ring.
    js::make_callback(call.0, call.1, call.2, call.3 as u32);
    let mut b = cell.borrow_mut();
    let Some(st) = b.as_mut() else { return };
    st.flush();
    rounds += 1;
    delivered += call.3;
    // Go on while the batch was full (completions already waiting), or while the ops just
    // submitted have already completed or are about to (page-cache reads complete inside the
    // submitting syscall: `wait_imminent`), within the budget.
    let budget_left = rounds < TURN_ROUNDS && delivered < TURN_COMPLETIONS;
    let go_on = call.4 || (budget_left && st.ring.wait_imminent(IMMINENT));
    if !go_on {
      st.end_turn();
      return;
    }
  }
}

unsafe extern "C" fn on_prepare(h: *mut uv::Handle) {
  // SAFETY: handle data is the `Rc<Cell>` leaked in `NativeRing::new`, alive until the handles close.
  turn(unsafe { &*(uv::data(h) as *const Cell) }, false);
}

unsafe extern "C" fn on_poll(h: *mut uv::Handle, _status: i32, _events: i32) {
  // SAFETY: as in `on_prepare`.
  turn(unsafe { &*(uv::data(h) as *const Cell) }, true);
}

struct Closing {
  remaining: u32,
  hook: Option<sys::napi_async_cleanup_hook_handle>,
}

unsafe extern "C" fn on_close(h: *mut uv::Handle) {
  let closing = uv::data(h) as *mut Closing;
  // SAFETY: libuv is done with `h`; `closing` was leaked by `destroy` for exactly two closes.
  unsafe {
    uv::free(h);
    (*closing).remaining -= 1;
    if (*closing).remaining == 0 {
      let c = Box::from_raw(closing);
      if let Some(hook) = c.hook {
        sys::napi_remove_async_cleanup_hook(hook);
      }
    }
  }
}

/// Ends a ring: cancels and drains whatever is in flight (blocking, bounded), releases every
/// reference, closes the uv handles. `hook` is set when called from the env's cleanup.
fn destroy(cell: &Cell, hook: Option<sys::napi_async_cleanup_hook_handle>) {
  destroy_ending(cell, hook, hook.is_some())
}

/// `destroy`, and `ending`: the thread is ending (the env's cleanup hook, or its teardown running
/// the ring's finalizer), so the fds of its open FileHandles and sockets are closed too.
fn destroy_ending(cell: &Cell, hook: Option<sys::napi_async_cleanup_hook_handle>, ending: bool) {
  let Some(mut st) = cell.borrow_mut().take() else {
    return;
  };
  let env = st.env;
  if st.ring.in_flight() > 0 {
    let _ = st.ring.cancel_all();
    // Ops still owned after the deadline are leaked by the ring's Drop, never freed.
    let pins = &mut st.pins;
    st.ring.drain(DRAIN_TIMEOUT, |c| {
      if let Some((_op, keep)) = c.done {
        pins.release_all(env, keep, None);
      }
    });
  }
  // References still counted on (ops the drain gave up on) are never deleted: leaked, not freed.
  st.pins.sweep(env);
  if ending {
    // The thread is ending: no JavaScript will close these. Ops on them were cancelled and
    // drained above; one the drain gave up on holds its own reference to the file, not the fd.
    for fd in st.owned_fds.drain() {
      // SAFETY: close(2) of an fd this ring's FileHandle or socket owns and never closed; it
      // touches no memory. (A fd closed behind the handle's back could have been reused: the
      // same hazard as Node's own FileHandle cleanup.)
      unsafe { libc::close(fd) };
    }
  }
  if st.ring.in_flight() > 0 {
    // Keep the completion function (and so the views) reachable for ever: leaked, not freed.
    js::set_strong(env, st.on_complete, true);
  } else {
    js::unref(env, st.on_complete);
  }
  js::unref(env, st.completions);
  js::async_destroy(env, st.async_ctx);
  if hook.is_none() && !st.cleanup.is_null() {
    // SAFETY: the hook was registered in `new` and has not run (it would have taken the state);
    // once removed it never runs, so its Rc is ours to drop.
    unsafe {
      sys::napi_remove_async_cleanup_hook(st.cleanup);
      drop(Rc::from_raw(st.hook_arg));
    }
  }
  if let Some(h) = st.handles.take() {
    let closing = Box::into_raw(Box::new(Closing { remaining: 2, hook }));
    // SAFETY: re-point both handles' data at `closing` for `on_close`; no poll or prepare
    // callback runs for a closing handle.
    unsafe {
      *(h.poll as *mut *mut c_void) = closing.cast();
      *(h.prepare as *mut *mut c_void) = closing.cast();
      drop(Rc::from_raw(st.handle_data));
    }
    h.close(on_close);
  } else if let Some(hook) = hook {
    // SAFETY: the hook handle is live until removed, once.
    unsafe { sys::napi_remove_async_cleanup_hook(hook) };
  }
  // Dropping the state closes the ring (after its handles stopped polling its fds).
}

unsafe extern "C" fn on_env_cleanup(handle: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
  // SAFETY: `arg` is an `Rc<Cell>` leaked in `new` for this hook, reclaimed here once.
  let cell = unsafe { Rc::from_raw(arg as *const Cell) };
  destroy(&cell, Some(handle));
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
}

/// 4 KiB blocks of each ring's registered arena: 1 MiB, that many 4 KiB reads or writes in
/// flight through registered memory at once (more take heap chunks and plain READ/WRITE).
const ARENA_BLOCKS: u32 = 256;

/// Whether pinning an arena cannot starve rings to come: the kernel counts pinned pages (and, on
/// recent kernels, each ring's own memory) against RLIMIT_MEMLOCK unless the process has
/// CAP_IPC_LOCK, and with the common 8 MiB limit a megabyte per ring would make `io_uring_setup`
/// fail after a few rings. So: root (which holds CAP_IPC_LOCK unless dropped), or a limit of at
/// least 64 MiB.
fn memlock_to_spare() -> bool {
  // SAFETY: geteuid has no preconditions; getrlimit writes into a live local.
  unsafe {
    if libc::geteuid() == 0 {
      return true;
    }
    let mut r: libc::rlimit = std::mem::zeroed();
    libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) == 0
      && (r.rlim_cur == libc::RLIM_INFINITY || r.rlim_cur >= 64 << 20)
  }
}

/// Maps an arena and registers it as `ring`'s fixed buffer 0, handing it to `pins`' chunks.
/// Returns its size, or 0 when the kernel refused (then chunks come from the heap).
fn register_arena(ring: &mut Ring<Keep>, pins: &mut Pins) -> usize {
  let ops = ring.supported_ops();
  if !ops.contains(&"read_fixed") || !ops.contains(&"write_fixed") || !memlock_to_spare() {
    return 0;
  }
  let Ok(arena) = Arena::new(ARENA_BLOCKS) else {
    return 0;
  };
  // SAFETY: the arena is a read-write mapping of our own; it lives in `pins` for as long as the
  // ring's state does, and only ops of this ring are pointed into it.
  match unsafe { ring.register_buffer(arena.base(), arena.len()) } {
    Ok(()) => {
      let n = arena.len();
      pins.chunks.set_arena(arena);
      n
    }
    // ENOMEM past RLIMIT_MEMLOCK, or EPERM/EINVAL: go on without.
    Err(_) => 0,
  }
}

/// One io_uring instance bound to the calling thread's event loop. Internal: used by the
/// TypeScript `Ring`, which validates arguments first.
#[napi]
pub struct NativeRing {
  cell: Rc<Cell>,
  env: sys::napi_env,
  mode: &'static str,
  supported: Vec<&'static str>,
  files: u32,
}

fn closed() -> Error {
  Error::new(Status::GenericFailure, "ring is closed")
}

/// `read`/`write` of `length` bytes at `offset` of a JS view, at file `position` (< 0: current).
/// `direct`: a read into memory the library allocated and no user code has seen (see [`keep`]).
#[allow(clippy::too_many_arguments)]
fn rw(
  cell: &Cell,
  write: bool,
  fd: File,
  buffer: sys::napi_value,
  offset: u32,
  length: u32,
  position: i64,
  direct: bool,
) -> Result<u32> {
  let mut b = cell.borrow_mut();
  let st = b.as_mut().ok_or_else(closed)?.live()?;
  rw_op(st, write, fd, buffer, offset, length, position, direct)
}

#[allow(clippy::too_many_arguments)]
fn rw_op(
  st: &mut State,
  write: bool,
  fd: File,
  buffer: sys::napi_value,
  offset: u32,
  length: u32,
  position: i64,
  direct: bool,
) -> Result<u32> {
  let env = st.env;
  let at = self::position(position);
  let (op, keep) = if write {
    let (buf, keep) = st.pins.source(env, buffer, offset, length, false)?;
    let op = match keep.fixed() {
      Some(index) => Op::WriteFixed {
        fd,
        buf,
        len: length,
        offset: at,
        index,
      },
      None => Op::Write {
        fd,
        buf,
        len: length,
        offset: at,
      },
    };
    (op, keep)
  } else {
    let (buf, keep) = st.pins.dest(env, buffer, offset, length, direct)?;
    let op = match keep.fixed() {
      Some(index) => Op::ReadFixed {
        fd,
        buf,
        len: length,
        offset: at,
        index,
      },
      None => Op::Read {
        fd,
        buf,
        len: length,
        offset: at,
      },
    };
    (op, keep)
  };
  if keep.fixed().is_some() {
    st.fixed_ops += 1;
  }
  Ok(st.push(op, keep))
}

/// `read(fd, buffer, offset, length, position)` and `write(...)` of one ring, as raw Node-API
/// functions bound to it (see [`NativeRing::hot`]): a class method pays for unwrapping and
/// borrow-tracking the instance on every call (measured: ~30% of a 4 KiB page-cache read).
/// Return the op's token; throw on bad arguments or a closed ring.
unsafe extern "C" fn raw_rw<const WRITE: bool>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<6, 5>(env, info, "expected (fd, buffer, offset, length, position)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: the function's data is the `Rc<Cell>` leaked into it by `bound`, released only by its
  // finalizer, which cannot run while the function is being called.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<u32> {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let offset = js::get_u32(env, argv[2], "offset")?;
    let length = js::get_u32(env, argv[3], "length")?;
    let position = js::get_i64(env, argv[4], "position")?;
    // A 6th argument `true`: a direct read (library memory no user code has seen yet).
    let direct = !WRITE && js::is_true(env, argv[5]);
    rw(
      cell,
      WRITE,
      File::Fd(fd),
      argv[1],
      offset,
      length,
      position,
      direct,
    )
  })();
  match result {
    Ok(token) => js::uint32(env, token),
    Err(e) => {
      js::throw(env, &e.reason);
      ptr::null_mut()
    }
  }
}

/// Reads the arguments of a bound function: up to `N` values (`undefined` for those not passed)
/// and the function's data (the ring's cell). Throws (returns None) when fewer than `MIN` were passed.
unsafe fn bound_args<const N: usize, const MIN: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
  usage: &str,
) -> Option<([sys::napi_value; N], *const Cell)> {
  let mut argc = N;
  let mut argv = [ptr::null_mut(); N];
  let mut data = ptr::null_mut();
  // SAFETY: called by Node with a valid env and callback info; argv has room for `argc` values.
  let s = unsafe {
    sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    )
  };
  if s != sys::Status::napi_ok || argc < MIN {
    js::throw(env, usage);
    return None;
  }
  Some((argv, data as *const Cell))
}

/// `send(fd, buffer, offset, length, own?)` of one ring (MSG_NOSIGNAL), bound like `raw_rw`:
/// returns the op's token. `own === true`: `buffer` is the library's own copy, no user code has
/// it, so it is sent in place (see [`keep`]); else its bytes are copied into memory the op owns.
unsafe extern "C" fn raw_send(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<5, 4>(env, info, "expected (fd, buffer, offset, length)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: the function's data is the `Rc<Cell>` leaked into it by `bound`, released only by its
  // finalizer, which cannot run while the function is being called.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<u32> {
    let fd = js::get_i32(env, argv[0], "fd")?;
    let offset = js::get_u32(env, argv[2], "offset")?;
    let length = js::get_u32(env, argv[3], "length")?;
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?.live()?;
    let (buf, keep) = st
      .pins
      .source(env, argv[1], offset, length, js::is_true(env, argv[4]))?;
    Ok(st.push(
      Op::Send {
        fd,
        buf,
        len: length,
        zerocopy: false,
      },
      keep,
    ))
  })();
  match result {
    Ok(token) => js::uint32(env, token),
    Err(e) => {
      js::throw(env, &e.reason);
      ptr::null_mut()
    }
  }
}

/// `take(group, flags, length, target)`: copies the `length` bytes a recv completion with
/// `flags` put into a provided buffer of `group` into the view `target` (JS-allocated, at least
/// `length` bytes), and gives the buffer back to the kernel.
unsafe extern "C" fn raw_take(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: forwarded from Node's call.
  let Some((argv, cell)) =
    (unsafe { bound_args::<4, 4>(env, info, "expected (group, flags, length, target)") })
  else {
    return ptr::null_mut();
  };
  // SAFETY: as in `raw_send`.
  let cell = unsafe { &*cell };
  let result = (|| -> Result<()> {
    let group = u16::try_from(js::get_u32(env, argv[0], "group")?)
      .map_err(|_| Error::new(Status::InvalidArg, "group must fit in 16 bits"))?;
    let flags = js::get_u32(env, argv[1], "flags")?;
    let len = js::get_u32(env, argv[2], "length")? as usize;
    let bid =
      buffer_id(flags).ok_or_else(|| Error::new(Status::InvalidArg, "the completion names no buffer"))?;
    let target = js::view(env, argv[3])?;
    if target.len < len {
      return Err(Error::new(Status::InvalidArg, "target too small"));
    }
    let mut b = cell.borrow_mut();
    let st = b.as_mut().ok_or_else(closed)?;
    let bytes = st
      .ring
      .buffer(group, bid, len)
      .ok_or_else(|| Error::new(Status::InvalidArg, "no such buffer"))?;
    // SAFETY: `target` is a live view of at least `len` bytes (checked), owned by JS memory the
    // kernel does not touch; `bytes` is ring memory; they cannot overlap. No JS runs meanwhile.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), target.data, len) };
    st.ring.recycle_buffer(group, bid);
    Ok(())
  })();
  if let Err(e) = result {
    js::throw(env, &e.reason);
  }
  ptr::null_mut()
}

unsafe extern "C" fn drop_cell(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: `data` is the `Rc<Cell>` leaked by `bound` for one function; its finalizer runs
  // once, on the JS thread.
  drop(unsafe { Rc::from_raw(data as *const Cell) });
}

/// After a short write at the file position (offset -1) of a regular file or block device,
/// moves the position past the bytes written, which this kernel leaves undone (see
/// `uring_core::quirks`): `write(2)` would have, and loops that go on at the position (Node's,
/// ours) would otherwise write the rest over them and never see ENOSPC/EFBIG.
fn fix_position(op: &Op, result: i32) {
  let (fd, asked) = match op {
    // WRITE_FIXED ends in the same kiocb completion as WRITE (io_uring/rw.c: io_write).
    Op::Write {
      fd: File::Fd(fd),
      len,
      offset: uring_core::CURRENT_POSITION,
      ..
    }
    | Op::WriteFixed {
      fd: File::Fd(fd),
      len,
      offset: uring_core::CURRENT_POSITION,
      ..
    } => (*fd, *len as usize),
    Op::Writev {
      fd,
      iov,
      offset: uring_core::CURRENT_POSITION,
    } => (*fd, iov.iter().map(|v| v.iov_len).sum()),
    _ => return,
  };
  if result < 0 || result as usize >= asked || !uring_core::quirks::short_write_keeps_position() {
    return;
  }
  // SAFETY: fstat into a local, fcntl and lseek: no memory of ours is touched beyond `st`.
  unsafe {
    let mut st: libc::stat = std::mem::zeroed();
    if libc::fstat(fd, &mut st) != 0 {
      return;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFREG && kind != libc::S_IFBLK {
      return; // pipes, sockets, terminals: no position to fix
    }
    if libc::fcntl(fd, libc::F_GETFL) & libc::O_APPEND != 0 {
      // write(2) leaves an O_APPEND file's position at its end.
      libc::lseek(fd, 0, libc::SEEK_END);
    } else {
      libc::lseek(fd, result as libc::off_t, libc::SEEK_CUR);
    }
  }
}

fn position(pos: i64) -> u64 {
  if pos < 0 {
    uring_core::CURRENT_POSITION
  } else {
    pos as u64
  }
}

/// A native function whose data is a strong `Rc` of the ring's cell, dropped by its finalizer.
fn bound<'a>(
  env: sys::napi_env,
  name: &std::ffi::CStr,
  cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
  cell: &Rc<Cell>,
) -> Result<Unknown<'a>> {
  let data = Rc::into_raw(cell.clone()) as *mut c_void;
  match js::function(env, name, cb, data, drop_cell) {
    // SAFETY: a live value of this env, returned to JS before the call's handle scope closes.
    Ok(f) => Ok(unsafe { Unknown::from_raw_unchecked(env, f) }),
    Err(e) => {
      // SAFETY: no finalizer was attached, so the Rc is still ours.
      unsafe { drop(Rc::from_raw(data as *const Cell)) };
      Err(e)
    }
  }
}

#[napi]
impl NativeRing {
  /// `entries`: SQ size. `sqpoll_idle_ms`: set for an SQPOLL ring. `submitter`: a submit thread
  /// (default: when more than one CPU is usable; ignored with SQPOLL). `files`: slots of the
  /// registered file table (0 or none: no table). `on_complete(n)` is called with `n` triples
  /// written into `completions` (an Int32Array whose length is a multiple of 3).
  #[napi(constructor)]
  #[allow(clippy::too_many_arguments)]
  pub fn new(
    env: Env,
    entries: u32,
    sqpoll_idle_ms: Option<u32>,
    sqpoll_cpu: Option<u32>,
    submitter: Option<bool>,
    files: Option<u32>,
    on_complete: Unknown,
    completions: Unknown,
  ) -> Result<Self> {
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
    })
    .map_err(|e| {
      Error::new(
        Status::GenericFailure,
        format!("io_uring_setup: {e} (errno {})", e.raw_os_error().unwrap_or(0)),
      )
    })?;
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
    let registered = register_arena(&mut ring, &mut pins);
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
      async_ctx: js::async_context(env)?,
      cleanup: ptr::null_mut(),
      hook_arg: ptr::null(),
      handle_data: ptr::null(),
      owned_fds: HashSet::new(),
      sqpoll: mode == "sqpoll",
      credentials: CREDENTIALS.load(Ordering::Acquire),
      registered,
      fixed_ops: 0,
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

  /// Links the ops pushed from now on, each to the next, until `endChain()` (see
  /// `Ring::begin_chain`): none is submitted before the chain is ended.
  #[napi]
  pub fn begin_chain(&self) -> Result<()> {
    self.with(|st| {
      st.ring.begin_chain();
      Ok(())
    })
  }

  /// Ends the chain: its ops go to the kernel together. Throws (and cancels them) if the chain
  /// is longer than the submission queue.
  #[napi]
  pub fn end_chain(&self) -> Result<()> {
    self.with(Self::end)
  }

  /// Ends the chain without running it: the ops pushed since `beginChain()` complete with
  /// -ECANCELED.
  #[napi]
  pub fn abort_chain(&self) -> Result<()> {
    self.with(|st| {
      st.ring.abort_chain();
      Ok(())
    })
  }

  /// `read` of a file-table slot (see `files`); `position < 0`: the slot's file position.
  /// `direct`: into memory the library allocated and no user code has seen (see [`keep`]).
  #[napi]
  pub fn read_slot(
    &self,
    slot: u32,
    buffer: Unknown,
    offset: u32,
    length: u32,
    position: i64,
    direct: Option<bool>,
  ) -> Result<u32> {
    self.with(|st| {
      rw_op(
        st,
        false,
        File::Fixed(slot),
        buffer.raw(),
        offset,
        length,
        position,
        direct.unwrap_or(false),
      )
    })
  }

  /// `write` to a file-table slot.
  #[napi]
  pub fn write_slot(
    &self,
    slot: u32,
    buffer: Unknown,
    offset: u32,
    length: u32,
    position: i64,
  ) -> Result<u32> {
    self.with(|st| {
      rw_op(
        st,
        true,
        File::Fixed(slot),
        buffer.raw(),
        offset,
        length,
        position,
        false,
      )
    })
  }

  /// Empties a file-table slot (closes its file).
  #[napi]
  pub fn close_slot(&self, slot: u32) -> Result<u32> {
    self.push(Op::Close {
      fd: File::Fixed(slot),
    })
  }

  /// The chain of `readFile`: open `path` into `slot` → read into `first` → read into `second`,
  /// both at the file position. The second read is hard-linked (it runs even though the first
  /// came back short): a 0 from it proves the end of any kind of file (a pipe or a terminal
  /// can return short reads long before their end) without a statx, which the kernel always
  /// hands to a worker thread. Returns the three tokens. The slot stays open: the caller closes it.
  #[napi]
  pub fn read_file_chain(
    &self,
    path: Unknown,
    flags: i32,
    slot: u32,
    first: Unknown,
    second: Unknown,
  ) -> Result<Vec<u32>> {
    let path = js::path(self.env, path.raw())?;
    self.with(|st| {
      Self::chain_fits(st, 3)?;
      // The two buffers are the library's own pooled read buffers, never seen by user code.
      let env = st.env;
      let a_len = js::view(env, first.raw())?.len;
      let b_len = js::view(env, second.raw())?.len;
      let (Ok(a_len), Ok(b_len)) = (u32::try_from(a_len), u32::try_from(b_len)) else {
        return Err(Error::new(Status::InvalidArg, "buffer too large"));
      };
      let (a, a_keep) = st.pins.dest(env, first.raw(), 0, a_len, true)?;
      let (b, b_keep) = match st.pins.dest(env, second.raw(), 0, b_len, true) {
        Ok(h) => h,
        Err(e) => {
          st.pins.release_all(env, a_keep, None);
          return Err(e);
        }
      };
      let at = uring_core::CURRENT_POSITION;
      st.ring.begin_chain();
      let mut tokens = vec![
        st.push(
          Op::OpenAt {
            dirfd: AT_FDCWD,
            path,
            flags,
            mode: 0,
            slot: Some(slot),
          },
          Keep::None,
        ),
        st.push(
          Op::Read {
            fd: File::Fixed(slot),
            buf: a,
            len: a_len,
            offset: at,
          },
          a_keep,
        ),
      ];
      st.ring.harden_link();
      tokens.push(st.push(
        Op::Read {
          fd: File::Fixed(slot),
          buf: b,
          len: b_len,
          offset: at,
        },
        b_keep,
      ));
      Self::end(st)?;
      Ok(tokens)
    })
  }

  /// The chain of `writeFile`: open `path` (`flags`, `mode`) into `slot` → write `length` bytes
  /// of `buffer` from `offset` at file offset 0 (the end with O_APPEND) → close the slot.
  /// Returns the three tokens. A short write stops the chain before the close: the caller
  /// writes the rest (at explicit offsets: a short write at the file position leaves the
  /// position unmoved, see `uring_core::quirks`) and closes.
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn write_file_chain(
    &self,
    path: Unknown,
    flags: i32,
    mode: u32,
    slot: u32,
    buffer: Unknown,
    offset: u32,
    length: u32,
  ) -> Result<Vec<u32>> {
    let path = js::path(self.env, path.raw())?;
    self.with(|st| {
      Self::chain_fits(st, 3)?;
      let (buf, keep) = st.pins.source(st.env, buffer.raw(), offset, length, false)?;
      let open = Op::OpenAt {
        dirfd: AT_FDCWD,
        path,
        flags,
        mode,
        slot: Some(slot),
      };
      let write = Op::Write {
        fd: File::Fixed(slot),
        buf,
        len: length,
        offset: 0,
      };
      st.ring.begin_chain();
      let tokens = vec![
        st.push(open, Keep::None),
        st.push(write, keep),
        st.push(
          Op::Close {
            fd: File::Fixed(slot),
          },
          Keep::None,
        ),
      ];
      Self::end(st)?;
      Ok(tokens)
    })
  }

  /// Refuses, before anything is pushed, a chain of `n` ops that the SQ cannot hold.
  fn chain_fits(st: &State, n: u32) -> Result<()> {
    if n > st.ring.sq_entries() {
      return Err(Error::new(
        Status::InvalidArg,
        "a chain may not be longer than the submission queue",
      ));
    }
    Ok(())
  }

  fn end(st: &mut State) -> Result<()> {
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
  fn with<R>(&self, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
    let mut b = self.cell.borrow_mut();
    f(b.as_mut().ok_or_else(closed)?.live()?)
  }

  fn push(&self, op: Op) -> Result<u32> {
    self.with(|st| Ok(st.push(op, Keep::None)))
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
    ts_return_type = "[(fd: number, buffer: ArrayBufferView, offset: number, length: number, own?: boolean) => number, (group: number, flags: number, length: number, target: ArrayBufferView) => void]"
  )]
  pub fn net_hot(&self) -> Result<Vec<Unknown<'_>>> {
    let env = self.with(|st| Ok(st.env))?;
    Ok(vec![
      bound(env, c"send", raw_send, &self.cell)?,
      bound(env, c"take", raw_take, &self.cell)?,
    ])
  }

  #[napi]
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
  #[napi]
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

  #[napi]
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

  #[napi]
  pub fn close(&self, fd: i32) -> Result<u32> {
    self.push(Op::Close { fd: File::Fd(fd) })
  }

  /// `statx` into `out` (at least 256 bytes, JS-allocated). `fd >= 0` with an empty path stats
  /// the fd (`AT_EMPTY_PATH`).
  #[napi]
  pub fn statx(&self, fd: i32, path: Unknown, flags: i32, mask: u32, out: Unknown) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.with(|st| {
      // `out` is allocated by the library for this op and read only after it completed.
      let size = std::mem::size_of::<libc::statx>() as u32;
      let (buf, keep) = st.pins.dest(st.env, out.raw(), 0, size, true)?;
      let dirfd = if fd >= 0 { fd } else { AT_FDCWD };
      Ok(st.push(
        Op::Statx {
          dirfd,
          path,
          flags,
          mask,
          buf,
        },
        keep,
      ))
    })
  }

  #[napi]
  pub fn fsync(&self, fd: i32, datasync: bool) -> Result<u32> {
    self.push(Op::Fsync { fd, datasync })
  }

  #[napi]
  pub fn unlinkat(&self, path: Unknown, flags: i32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::UnlinkAt {
      dirfd: AT_FDCWD,
      path,
      flags,
    })
  }

  #[napi]
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

  #[napi]
  pub fn mkdirat(&self, path: Unknown, mode: u32) -> Result<u32> {
    let path = js::path(self.env, path.raw())?;
    self.push(Op::MkdirAt {
      dirfd: AT_FDCWD,
      path,
      mode,
    })
  }

  /// `symlinkat(target, AT_FDCWD, path)`: `target` is stored as given (not resolved).
  #[napi]
  pub fn symlinkat(&self, target: Unknown, path: Unknown) -> Result<u32> {
    let (target, linkpath) = (js::path(self.env, target.raw())?, js::path(self.env, path.raw())?);
    self.push(Op::SymlinkAt {
      target,
      newdirfd: AT_FDCWD,
      linkpath,
    })
  }

  #[napi]
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
    let len = u64::try_from(len).map_err(|_| Error::new(Status::InvalidArg, "len must not be negative"))?;
    self.push(Op::Ftruncate { fd, len })
  }

  #[napi]
  pub fn nop(&self) -> Result<u32> {
    self.push(Op::Nop)
  }

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
  #[napi]
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
    b.as_mut().ok_or_else(closed)?.owned_fds.insert(fd);
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
      submitted: s.submitted as f64,
      completed: s.completed as f64,
      enter_calls: s.enter_calls as f64,
      in_flight: s.in_flight,
      queued: s.queued,
      cq_overflows: s.cq_overflows as f64,
      sq_wakeups: s.sq_wakeups as f64,
    })
  }

  /// Frees the ring. Ops still in flight are cancelled and drained first (blocking, bounded);
  /// their completions are not delivered. The TypeScript `close()` drains asynchronously first.
  #[napi]
  pub fn destroy(&self) {
    destroy(&self.cell, None);
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

/// A socket address from the binding's arguments: `family` 4 or 6 with an IP literal and a port,
/// or 0 with a Unix socket path.
fn sockaddr(family: u32, address: &str, port: u32) -> Result<SockAddr> {
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
/// the address being the path). Sync `getsockname`/`getpeername`; throws the errno.
#[napi(ts_return_type = "[number, string, number]")]
pub fn sock_name(fd: i32, peer: bool) -> Result<(u32, String, u32)> {
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
      return Err(Error::new(
        Status::GenericFailure,
        format!("errno {}", e.raw_os_error().unwrap_or(0)),
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

/// `setsockopt(fd, level, name, &value, 4)`, synchronous; throws the errno.
#[napi]
pub fn set_sock_opt(fd: i32, level: i32, name: i32, value: i32) -> Result<()> {
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
    let e = std::io::Error::last_os_error();
    return Err(Error::new(
      Status::GenericFailure,
      format!("errno {}", e.raw_os_error().unwrap_or(0)),
    ));
  }
  Ok(())
}
