// The low-level operations every backend implements: io_uring (backend-uring.ts) and node:fs
// (backend-node.ts). The fs API (fs-api.ts, file-handle.ts) is written once on top of this
// interface, so both backends share every argument check, result shape and error path.
import type { Stats } from 'node:fs'
import type { NativeRing } from '../binding'
import type { OpName } from './op-names'
import type { Row } from './ops'

/** How a completed read/write is reported. */
export enum Shape {
  /** The plain result (a byte count or fd). */
  Number = 0,
  /** `{ bytesRead, buffer }` */
  Read = 1,
  /** `{ bytesWritten, buffer }` */
  Write = 2,
  /** `{ bytesRead, buffers }` */
  Readv = 3,
  /** `{ bytesWritten, buffers }` */
  Writev = 4,
}

/** Counters of one ring. `enterCalls` counts every `io_uring_enter` the library made. */
export interface RingStats {
  /** Ops handed to the kernel. */
  submitted: number
  /** Ops completed. */
  completed: number
  /** `io_uring_enter` system calls made (0 on the node backend). */
  enterCalls: number
  /** Ops owned by the ring: queued or in the kernel. */
  inFlight: number
  /** Ops waiting for room in the submission queue. */
  queued: number
  /** CQ overflows the kernel reported (completions were kept, not lost). */
  cqOverflows: number
  /** SQPOLL wake-ups requested. */
  sqWakeups: number
  /** Ops of this ring that ran on node:fs because the kernel lacks their opcode. */
  fallbackOps: number
  /**
   * Bytes of memory registered with the kernel as this ring's fixed buffer: reads and writes of
   * up to 4 KiB into or out of ordinary buffers go through it (READ_FIXED/WRITE_FIXED). 1 MiB
   * for root or a RLIMIT_MEMLOCK of at least 64 MiB; 0 otherwise (pinned memory counts against
   * that limit, and so do rings themselves on recent kernels: a megabyte per ring would leave
   * later rings unable to start), when the kernel refused, and on the node backend. Such ops
   * then use plain reads and writes, with the same results.
   */
  registeredBytes: number
  /** Reads and writes that went through the registered buffer. */
  fixedOps: number
  /**
   * Reads at a position that the JS thread made itself, from the page cache straight into the
   * caller's buffer, because the ring's submit thread was the bottleneck (it had SQEs queued
   * while the JS thread waited for its completions): `preadv2` with `RWF_NOWAIT`, which never
   * blocks; a read the page cache cannot answer whole goes to the ring as usual. They are
   * delivered in the loop's turn like any completion, and counted in `completed`, not in
   * `submitted`. 0 on rings without a submit thread and on the node backend.
   */
  ownReads: number
  /**
   * Socket writes the JS thread sent itself: on a ring whose kernel work runs on the JS thread
   * anyway (`defer_taskrun`, `uring/net`'s default), a write with nothing in flight on its socket
   * is first tried with `send(2)` and `MSG_DONTWAIT`, straight from the caller's buffer (no copy,
   * no op); what the socket could not take at once goes through the ring. Counted in neither
   * `submitted` nor `completed`. 0 on other rings and on the node backend.
   */
  ownSends: number
  /**
   * Ops the ring's executor threads ran with plain syscalls instead of the kernel (a `stat`,
   * `lstat` or `fh.stat()`, a `mkdir`, `unlink`, `rmdir`, `rename`, `symlink` or `link`, and
   * `writeFile`'s open-write-close, each on its own, not in a chain: io_uring would hand them to
   * an io-wq worker, which costs more than the syscall), their results posted into the ring's completion
   * queue (IORING_OP_MSG_RING) and delivered like any completion. Counted in `completed`, not in
   * `submitted`. 0 on the node backend, on kernels without MSG_RING (before 5.18) and with
   * `URING_EXECUTOR=0`.
   */
  executedOps: number
}

export type BackendKind = 'io_uring' | 'node'
/**
 * How a ring was set up: `submitter` (a plain ring with a submit thread), `defer_taskrun`,
 * `coop_taskrun`, `plain` (io_uring, submitting from the JS thread), `sqpoll`, or `node` (no io_uring).
 */
export type RingMode = 'submitter' | 'defer_taskrun' | 'coop_taskrun' | 'plain' | 'sqpoll' | 'node'

/**
 * Whoever must know when an op has finished (a FileHandle counting its pending ops so that
 * `close()` waits for them). `release()` runs once per op, before its promise settles.
 */
export interface Owner {
  release(): void
}

/**
 * What a chained `readFile` leaves when its first read may not have reached the end of the file
 * (a large file, a pipe): the bytes read so far, the size of a regular file (0 otherwise; a stat
 * made only then, after the chain), and the still-open file to go on reading from (at its
 * position) and then close.
 */
export interface OpenedRead {
  bytes: Buffer
  size: number
  read(buffer: Buffer, offset: number, length: number): Promise<number>
  close(): Promise<void>
}

export interface Backend {
  readonly kind: BackendKind
  /** How the ring was set up (see RingMode). */
  readonly mode: RingMode
  /**
   * Every op takes a `signal` (last): once it aborts, the op is asked to stop (io_uring: ASYNC_CANCEL;
   * node:fs cannot stop thread-pool work), and whatever its outcome it rejects with an AbortError;
   * an fd an aborted open returned anyway is closed, never leaked.
   */
  /**
   * `fresh`: `buffer` was allocated by the library and no user code has seen it yet (readFile's
   * buffers, stream chunks), so io_uring may read into it in place. Any other buffer is read
   * into memory the op owns and copied out at completion (user code could detach, transfer or
   * shrink it meanwhile); a SharedArrayBuffer's is always used in place.
   */
  read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal, fresh?: boolean): Promise<any>
  write(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any>
  readv(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any>
  writev(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any>
  open(path: string | Buffer, flags: number, mode: number, signal?: AbortSignal): Promise<number>
  close(fd: number, signal?: AbortSignal): Promise<void>
  stat(path: string | Buffer, follow: boolean, signal?: AbortSignal): Promise<Stats>
  fstat(fd: number, owner?: Owner, signal?: AbortSignal): Promise<Stats>
  /**
   * Starts an op of the op table (ops.ts): `a` is `[fd?, ...args]`, already checked. The one
   * start path of every such op, on io_uring (or on node:fs where the kernel lacks its opcode).
   */
  call(row: Row, a: readonly unknown[], owner?: Owner, signal?: AbortSignal): Promise<void>
  /**
   * `call`, resolving with 0 or the failure's negative errno (a UV code) instead of rejecting:
   * for callers that expect failures and look only at the code (mkdir -p meets EEXIST and ENOENT
   * all the time), so that no Error is made for them. Other failures still reject.
   */
  callErrno(row: Row, a: readonly unknown[]): Promise<number>
  /**
   * Runs a node:fs call for an operation the kernel has no io_uring opcode for (readdir, chmod,
   * ...), tracked like the ring's own ops: a closed ring rejects it, and closing waits for it.
   */
  delegate<R>(syscall: string, call: () => Promise<R>, owner?: Owner): Promise<R>
  /**
   * `readFile`'s open and first two reads as one linked submission (no statx: a second read of
   * 0 proves the end), the file opened into a slot of the ring's file table; a whole small file
   * comes back as a Buffer, its slot
   * closed without the caller waiting; a larger one is read on by `more` (the chain's bytes, the
   * file open in its slot), whose promise the chain's becomes. Undefined where the backend cannot (no file table, every
   * slot in use): the caller takes the step-by-step path. Rejects with open's or read's error.
   */
  readFile?(path: string | Buffer, flags: number, more: (f: OpenedRead) => Promise<Buffer>): Promise<Buffer> | undefined
  /**
   * The entries of directory `path` (open → getdents64 → close on the ring's executor): names
   * sorted byte by byte (libuv's scandir order), as strings or, with `buffers`, Buffers, and each
   * one's `UV_DIRENT_*` type. Undefined where the backend cannot (node:fs, a ring without an
   * executor): the caller runs node:fs's readdir. Rejects with a `scandir` error, as Node's.
   */
  scandir?(path: string | Buffer, buffers: boolean): Promise<[string[] | Buffer[], Uint8Array]> | undefined
  /** The ring's socket ops, where the backend runs them itself (io_uring); see `SocketRing`. */
  sockets?(): SocketRing
  /**
   * Records the fd of an open FileHandle or socket: if the thread ends (a worker terminated)
   * before it is closed, the ring closes it, as Node closes its own FileHandles. io_uring only;
   * `close` and `closeSync` forget it as they close it, in one native call.
   */
  own?(fd: number): void
  /**
   * Closes `fd` now (close(2) on this thread), forgetting it as owned in the same call: a
   * FileHandle collected while open, closed synchronously (Node's kCloseSync) or given away.
   */
  closeSync(fd: number): void
  /**
   * `writeFile` of bytes as one linked submission: open into a slot → write → close. Undefined
   * where the backend cannot (as readFile).
   */
  writeFile?(path: string | Buffer, flags: number, mode: number, data: Uint8Array): Promise<void> | undefined
  nop(signal?: AbortSignal): Promise<number>
  /**
   * Starts `n` ops (`start(i)` starts the i-th through this backend's methods) and settles them
   * together: one promise, a result per op as `Promise.allSettled` gives. Where absent, the
   * caller uses `Promise.allSettled` over the ops' own promises.
   */
  settleAll?(n: number, start: (i: number) => Promise<unknown>): Promise<PromiseSettledResult<unknown>[]>
  /**
   * Runs `f` outside the batch being gathered (`settleAll`): for an op of a batch made of several
   * ops of its own (readFile, writeFile step by step), whose inner ops must settle their own
   * promises, not the batch's slot.
   */
  alone?<R>(f: () => R): R
  /**
   * Starts the ops that `start` starts (one per entry of `opcodes`, the io_uring opcode each
   * needs) as one linked chain: each runs only after the one before it succeeded in full, and a
   * failed or short one cancels the rest (ECANCELED). Undefined where the backend cannot link
   * them natively (no io_uring, an opcode the kernel lacks, a chain longer than the SQ): the
   * caller then runs them one after the other with the same outcome.
   */
  chain?(opcodes: readonly (OpName | undefined)[], start: () => Promise<unknown>[]): Promise<unknown>[] | undefined
  stats(): RingStats
  /** Settles every in-flight op (cancelling what can be), then frees the backend. */
  close_(): Promise<void>
}

export function shaped(shape: Shape, n: number, buffer: unknown): any {
  switch (shape) {
    case Shape.Read:
      return { bytesRead: n, buffer }
    case Shape.Write:
      return { bytesWritten: n, buffer }
    case Shape.Readv:
      return { bytesRead: n, buffers: buffer }
    case Shape.Writev:
      return { bytesWritten: n, buffers: buffer }
    default:
      return n
  }
}

/**
 * What the io_uring socket transport (net/uring.ts) uses of its ring: ops with one completion
 * (`netCall`), ops with many (`netStream`), cancellation, the bound hot functions, provided
 * buffers, and fd ownership (closed if the thread ends first).
 */
export interface SocketRing {
  has(op: OpName): boolean
  /** How the ring was set up: sends are tried on the JS thread first only where its kernel work runs there anyway. */
  readonly mode: RingMode
  /** Starts a one-completion op through `start(native)`; resolves to its result, rejects with a system error naming `syscall`. */
  netCall(syscall: 'socket' | 'bind' | 'listen' | 'connect' | 'accept' | 'shutdown' | 'write' | 'read' | 'close', start: (native: NativeRing) => number, signal?: AbortSignal): Promise<number>
  /** Starts an op with many completions; `on(result, flags)` runs for each. Returns its token. */
  netStream(start: (native: NativeRing) => number, on: (r: number, flags: number) => void): number
  cancelOp(t: number): void
  readonly netHot: ReturnType<NativeRing['netHot']>
  readonly nativeRing: NativeRing
  own(fd: number): void
}
