//! `uring-core`: the io_uring engine behind the `uring` npm package. Pure Rust, no napi.
//!
//! - [`op`]: the operations and the memory each hands to the kernel.
//! - [`ring`]: a ring that owns every in-flight op (with whatever keeps its buffers alive) from
//!   [`Ring::push`] until its final completion is reaped, queues what does not fit, flushes
//!   submissions in batches and reaps completions in batches; its submitting half is in
//!   `submit`, its reaping and cancelling half in `reap`.
//! - `bufring`: provided-buffer groups the kernel fills for multishot receives, owned by the ring.
//! - [`quirks`]: kernel behaviour the binding corrects for (a short write at the file position).
//! - `submitter`: the optional thread that makes a ring's `io_uring_enter` calls
//!   ([`Mode::Submitter`]), so the kernel's inline work runs beside the owner's thread.
//! - `executor`: the optional threads that run the ops io_uring would punt to io-wq (STATX, the
//!   path ops, writeFile's open-write-close chain) and those no opcode does (readdir, access,
//!   chmod) with plain syscalls and post their results into the ring's CQ
//!   ([`Options::executor`]); `job`: what those threads run.
//! - [`listing`]: a directory's entries, which the executor reads for [`Op::Readdir`] (no
//!   io_uring opcode does).
//! - `sys`: an eventfd, the transient-error test, and anonymous mappings.
//!
//! The one rule: **an in-flight op owns everything the kernel may touch, and releases it only on
//! its final completion.** It is written once, on [`Ring::push`], the only `unsafe` entry point.

mod bufring;
mod executor;
mod job;
pub mod listing;
pub mod op;
pub mod quirks;
mod reap;
pub mod ring;
mod submit;
mod submitter;
mod sys;

pub use listing::{Listing, ListingCell};
pub use op::{File, Op, SockAddr, AT_FDCWD, CURRENT_POSITION, EXECUTOR_ONLY, OP_NAMES};
pub use ring::{buffer_id, Completion, Mode, Options, Ring, SqPoll, Stats, MAX_ENTRIES};
pub use sys::map_anonymous;
