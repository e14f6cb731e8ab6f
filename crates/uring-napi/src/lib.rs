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
//! Who owns memory the kernel touches: the engine, through [`keep::Keep`] — memory of the op's own
//! that JS buffers are copied into (writes) or out of (reads, at completion), or, for memory JS
//! cannot take away (SharedArrayBuffers, buffers the library just allocated), a strong reference
//! (see [`keep`]) — held until the op's final CQE.

//!
//! One job per file:
//! - `native_ring.rs`: the `NativeRing` class — construction, file ops, cancel, fd ownership, stats;
//!   `chains.rs` its chains and file-table slots, `net.rs` its socket ops (and socket syscalls),
//!   `stat.rs` its statx (results copied into the ring's stat area), `listing.rs` its readdir;
//! - `hot.rs`: read/write/send/take as raw Node-API functions bound to one ring;
//! - `state.rs`: one ring's state on its thread: push, reap into the JS slots, credentials, arena;
//! - `turn.rs`: the loop turn run by the uv handles; `teardown.rs`: ending a ring;
//! - `keep.rs`: what an op keeps alive (references, copies); `chunk.rs`: the memory copies use;
//! - `fd.rs`: fd syscalls outside a ring (dup3 for a FileHandle's worker transfer);
//! - `js.rs`: raw Node-API calls; `uv.rs`: libuv, resolved from the host.

mod chains;
mod chunk;
mod fd;
mod hot;
mod js;
mod keep;
mod listing;
mod native_ring;
mod net;
mod stat;
mod state;
mod teardown;
mod turn;
mod uv;

// The free functions exported to JavaScript, named at the crate root as before.
pub use fd::dup_onto;
pub use net::{set_sock_opt, sock_name};
pub use state::credentials_changed;
