//! One ring's state on its JS thread (`State`, in the `Cell` every entry point borrows): pushing
//! ops, reaping completions into the JS-visible slots, the credentials SQPOLL rings adopt, the
//! registered arena, and the short-write fix-up of the file position.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use uring_core::{Completion, File, Listing, Op, Ring};

use crate::chunk::Arena;
use crate::keep::{Keep, Pins};
use crate::{js, uv};

pub(crate) struct State {
  pub(crate) env: sys::napi_env,
  pub(crate) ring: Ring<Keep>,
  /// The references every in-flight op's `Keep` counts on.
  pub(crate) pins: Pins,
  pub(crate) handles: Option<uv::Handles>,
  /// The JS completion function: strong while ops are in flight, weak when idle so an unused
  /// ring can be garbage-collected.
  pub(crate) on_complete: sys::napi_ref,
  pub(crate) busy: bool,
  /// The JS-allocated Int32Array completions are written into, `[token, result, flags]` each.
  pub(crate) completions: sys::napi_ref,
  pub(crate) slots: *mut i32,
  pub(crate) slot_count: usize,
  /// The stat area (`stat.rs`): its reference and where its bytes are, once JS has set it.
  pub(crate) stat_area: Option<(sys::napi_ref, *mut u8)>,
  pub(crate) async_ctx: sys::napi_async_context,
  pub(crate) cleanup: sys::napi_async_cleanup_hook_handle,
  /// The `Rc` handed to the cleanup hook, reclaimed here if the ring is destroyed first.
  pub(crate) hook_arg: *const Cell,
  /// `handle->data` of both uv handles: one `Rc` leaked into them, reclaimed on destroy.
  pub(crate) handle_data: *const Cell,
  /// Fds of this ring's open FileHandles and sockets (`ownFd`/`disownFd`): closed if the thread
  /// ends (a worker terminated) before JavaScript closed them, as Node closes its FileHandles.
  /// With each, once known, whether the JS thread may read it itself (see `hot::read_here`).
  pub(crate) owned_fds: HashMap<i32, Option<bool>>,
  /// An SQPOLL ring: its ops run with the credentials of its kernel thread unless told otherwise.
  pub(crate) sqpoll: bool,
  /// The value of [`CREDENTIALS`] this ring's ops were last set up for.
  pub(crate) credentials: u32,
  /// Bytes of the arena registered as the ring's fixed buffer (0: refused, see `chunk.rs`).
  pub(crate) registered: usize,
  /// Reads and writes that went through registered memory (READ_FIXED/WRITE_FIXED).
  pub(crate) fixed_ops: u64,
  /// Reads the JS thread did itself while the submitter thread was busy (see `hot::read_here`).
  pub(crate) own_reads: u64,
  /// Sends made on the JS thread (`trySend`), no op.
  pub(crate) own_sends: u64,
  /// Readdir ops' entries, by token, from their reap until JavaScript takes them (`listing.rs`).
  pub(crate) listings: HashMap<u32, Listing>,
}

/// Bumped each time the process changes credentials (`credentialsChanged`, called by the
/// TypeScript layer after `process.setuid` and the like): SQPOLL rings then register the new
/// ones as a personality before their next op (see [`State::live`]).
pub(crate) static CREDENTIALS: AtomicU32 = AtomicU32::new(0);

/// The process changed its credentials (uid, gid, groups): no SQPOLL ring of any thread may run
/// another op with the old ones. Called by the TypeScript layer after `process.setuid`,
/// `seteuid`, `setgid`, `setegid`, `setgroups` and `initgroups`.
#[napi]
pub fn credentials_changed() {
  CREDENTIALS.fetch_add(1, Ordering::AcqRel);
}

pub(crate) type Cell = RefCell<Option<State>>;

/// Bytes of one `struct statx`, and of each completion slot's place in the stat area (`stat.rs`).
pub(crate) const STATX_SIZE: usize = std::mem::size_of::<libc::statx>();

impl State {
  /// Before a new op: an SQPOLL ring whose process changed credentials since its last op takes
  /// on this thread's current ones (a personality every SQE names from now on); if it cannot,
  /// the op is refused rather than run with the old ones.
  pub(crate) fn live(&mut self) -> Result<&mut State> {
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
  pub(crate) fn sync_busy(&mut self) {
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
  pub(crate) fn push(&mut self, op: Op, keep: Keep) -> u32 {
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
  pub(crate) fn end_turn(&mut self) {
    self.pins.sweep(self.env);
    self.sync_busy();
  }

  pub(crate) fn flush(&mut self) {
    if self.ring.needs_flush() {
      // Non-transient errors leave ops queued; they are retried every turn and cancelled by close.
      let _ = self.ring.flush();
    }
  }

  /// Reaps up to one completion array's worth, releasing each finished op's memory (a read's
  /// bytes are copied out into its JS buffer first, when it went through memory of its own).
  pub(crate) fn reap_into_slots(&mut self) -> usize {
    let (env, slots, max) = (self.env, self.slots, self.slot_count);
    let area = self.stat_area.map(|(_, at)| at);
    let pins = &mut self.pins;
    let listings = &mut self.listings;
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
        if let (Some(area), Some((Op::Statx { buf, .. }, _)), 0) = (area, &c.done, c.result) {
          // SAFETY: `buf` is the op's own statx buffer (`stat.rs`), written by the kernel or the
          // executor, which are done with it (this is its final CQE); `area` has room for
          // `max` structs (checked by `statArea`) and is kept alive by its reference.
          unsafe { std::ptr::copy_nonoverlapping(*buf, area.add(i * STATX_SIZE), STATX_SIZE) };
        }
        i += 1;
        if let Some((mut op, keep)) = c.done {
          if let (Op::Readdir { out, .. }, true) = (&mut op, c.result >= 0) {
            listings.insert(c.token, out.take());
          }
          fix_position(&op, c.result);
          pins.release_all(env, keep, Some(c.result));
        }
      })
    })
  }
}

/// 4 KiB blocks of each ring's registered arena: 1 MiB, that many 4 KiB reads or writes in
/// flight through registered memory at once (more take heap chunks and plain READ/WRITE).
pub(crate) const ARENA_BLOCKS: u32 = 256;

/// Whether pinning an arena cannot starve rings to come: the kernel counts pinned pages (and, on
/// recent kernels, each ring's own memory) against RLIMIT_MEMLOCK unless the process has
/// CAP_IPC_LOCK, and with the common 8 MiB limit a megabyte per ring would make `io_uring_setup`
/// fail after a few rings. So: root (which holds CAP_IPC_LOCK unless dropped), or a limit of at
/// least 64 MiB.
pub(crate) fn memlock_to_spare() -> bool {
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

/// Maps an arena and registers it as `ring`'s fixed buffer 0, handing it to `pins`' chunks
/// (`supported`: the ring's probed ops).
/// Returns its size, or 0 when none was registered — no fixed opcodes, too little RLIMIT_MEMLOCK
/// to spare, or the kernel refused — and chunks then come from the heap.
pub(crate) fn register_arena(ring: &mut Ring<Keep>, supported: &[&str], pins: &mut Pins) -> usize {
  if !["read_fixed", "write_fixed"]
    .iter()
    .all(|op| supported.contains(op))
    || !memlock_to_spare()
  {
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

pub(crate) fn closed() -> Error {
  Error::new(Status::GenericFailure, "ring is closed")
}

/// After a short write at the file position (offset -1) of a regular file or block device,
/// moves the position past the bytes written, which this kernel leaves undone (see
/// `uring_core::quirks`): `write(2)` would have, and loops that go on at the position (Node's,
/// ours) would otherwise write the rest over them and never see ENOSPC/EFBIG.
pub(crate) fn fix_position(op: &Op, result: i32) {
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

pub(crate) fn position(pos: i64) -> u64 {
  if pos < 0 {
    uring_core::CURRENT_POSITION
  } else {
    pos as u64
  }
}
