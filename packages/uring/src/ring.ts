// `Ring`: one io_uring instance (or its node:fs stand-in), its fs API and its low-level ops.
import type { Stats } from 'node:fs'
import { type Advice, checkArgs, ROWS, type Row } from './ops'
import { kMaxLength } from 'node:buffer'
import { type Backend, type BackendKind, type RingMode, type RingStats, Shape } from './backend'
import { NodeBackend } from './backend-node'
import { UringBackend } from './backend-uring'
import { invalidArgType, invalidArgValue, rejecting, RingError } from './errors'
import { type BatchOp, type BatchOptions, type BatchResults, batchSignal, checkOps, runBatch, runLink, type Starter } from './batch'

/**
 * Options every low-level op of a `Ring` takes (last). `signal`: aborting it cancels the op
 * (io_uring: `ASYNC_CANCEL`), which then rejects with an `AbortError`, whatever became of it;
 * an fd that an aborted `openat` returned anyway is closed. Already aborted: nothing starts.
 */
export type OpOptions = BatchOptions

function opSignal(options: OpOptions | undefined): AbortSignal | undefined {
  return options === undefined ? undefined : batchSignal(options)
}
import { watchCredentials } from './credentials'
import { byteLength } from './owned'
import { FsApi, PATH_FILES } from './fs-api'
import { NetApi } from './net/api'
import { loadNative, setupFailureReason } from './native'
import { getValidatedPath, parseFileMode, type PathLike, stringToFlags, validateBuffer, validateBufferArray, validateFd, validateInteger, validateNotAborting } from './validate'

// No ring may run an op with credentials the process gave up (see credentials.ts).
watchCredentials()

export type { BackendKind, RingStats }
export type { BatchOp, BatchOptions, BatchResults }

/** SQPOLL settings: a kernel thread polls the submission queue, so submitting needs no syscall. */
export interface SqpollOptions {
  /** Milliseconds the kernel thread keeps polling after the last submission (default 10; >= 1). */
  idleMs?: number
  /** CPU to pin the kernel thread to (`IORING_SETUP_SQ_AFF`). */
  cpu?: number
}

export interface RingOptions {
  /** Submission queue size, 1..32768 (default 256). More ops than this wait in a queue, never fail. */
  entries?: number
  /** Use an SQPOLL ring (`true` for the defaults). */
  sqpoll?: boolean | SqpollOptions
  /**
   * Without SQPOLL: make the `io_uring_enter` calls from a thread of the ring's own, which sleeps
   * 50 us after it runs out of work, so that work the kernel does while submitting (a
   * page-cache read and its copy) runs beside this thread instead of on it. Completions are still
   * delivered on this thread. Default: `true` when the process may run on more than one CPU.
   * Cannot be combined with `sqpoll`.
   */
  submitThread?: boolean
  /**
   * The buffers the ring provides to the kernel for socket receives (registered on the first
   * socket): `count` (a power of two, 1..32768; default 256) of `size` bytes (default 32768). A
   * chunk received is at most `size` bytes; sockets share them, and a socket whose receive finds
   * none waits until one is given back.
   */
  socketBuffers?: { count?: number; size?: number }
  /**
   * `'auto'` (default): io_uring when available, else node:fs. `'io_uring'`: throw when it is not
   * available. `'node'`: node:fs. The `URING_BACKEND` environment variable sets the default.
   */
  backend?: 'auto' | BackendKind
}

export const DEFAULT_ENTRIES = 256
export const MAX_ENTRIES = 32768
export const DEFAULT_SQPOLL_IDLE_MS = 10
const OPTION_KEYS = new Set(['entries', 'sqpoll', 'submitThread', 'backend', 'socketBuffers'])
const BACKENDS = ['auto', 'io_uring', 'node']

interface Resolved {
  entries: number
  socketBuffers: { count: number; size: number }
  sqpollIdleMs?: number
  sqpollCpu?: number
  submitThread?: boolean
  /** File-table slots: one per SQ entry, so chained readFile/writeFile never run short first. */
  files: number
  backend: 'auto' | BackendKind
  forcedBy?: string
}

function resolveOptions(options: unknown): Resolved {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidArgType('options', 'Object', options)
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw invalidArgValue(`options.${key}`, (options as any)[key], 'is not a Ring option (entries, sqpoll, submitThread, backend, socketBuffers)')
  }
  const o = options as RingOptions
  const entries = o.entries ?? DEFAULT_ENTRIES
  validateInteger(entries, 'options.entries', 1, MAX_ENTRIES)
  const sb = o.socketBuffers ?? {}
  if (typeof sb !== 'object' || sb === null || Array.isArray(sb)) throw invalidArgType('options.socketBuffers', 'Object', sb)
  const count = sb.count ?? 256
  validateInteger(count, 'options.socketBuffers.count', 1, 32768)
  if ((count & (count - 1)) !== 0) throw invalidArgValue('options.socketBuffers.count', count, 'must be a power of two')
  const size = sb.size ?? 32768
  validateInteger(size, 'options.socketBuffers.size', 1, 0x7fffffff)
  const r: Resolved = { entries, socketBuffers: { count, size }, files: entries, backend: 'auto' }
  const sq = o.sqpoll
  if (sq !== undefined && sq !== false) {
    if (sq === true) r.sqpollIdleMs = DEFAULT_SQPOLL_IDLE_MS
    else if (typeof sq === 'object' && sq !== null && !Array.isArray(sq)) {
      const idle = sq.idleMs ?? DEFAULT_SQPOLL_IDLE_MS
      validateInteger(idle, 'options.sqpoll.idleMs', 1, 0xffffffff)
      r.sqpollIdleMs = idle
      if (sq.cpu !== undefined) {
        validateInteger(sq.cpu, 'options.sqpoll.cpu', 0, 0xffffffff)
        r.sqpollCpu = sq.cpu
      }
    } else throw invalidArgType('options.sqpoll', ['boolean', 'Object'], sq)
  }
  if (o.submitThread !== undefined) {
    if (typeof o.submitThread !== 'boolean') throw invalidArgType('options.submitThread', 'boolean', o.submitThread)
    if (o.submitThread && r.sqpollIdleMs !== undefined) throw invalidArgValue('options.submitThread', true, 'cannot be combined with sqpoll')
    r.submitThread = o.submitThread
  }
  if (o.backend !== undefined) {
    if (!BACKENDS.includes(o.backend as string)) throw invalidArgValue('options.backend', o.backend, "must be 'auto', 'io_uring' or 'node'")
    r.backend = o.backend
    if (o.backend === 'node') r.forcedBy = "backend: 'node' was requested"
  }
  if (o.backend === undefined || o.backend === 'auto') {
    const env = process.env.URING_BACKEND
    if (env !== undefined && env !== '') {
      if (!BACKENDS.includes(env)) throw invalidArgValue('URING_BACKEND', env, "must be 'auto', 'io_uring' or 'node'")
      r.backend = env as Resolved['backend']
      if (env === 'node') r.forcedBy = 'URING_BACKEND=node is set'
    }
  }
  return r
}

function validateRingPosition(position: unknown): number {
  if (position === undefined || position === null) return -1
  validateInteger(position, 'position', -1)
  return position
}

/**
 * One io_uring instance, driven from this thread's event loop, with a `node:fs/promises`
 * compatible API (`ring.fs`) and low-level ops that take and return plain numbers. Falls back to
 * node:fs where io_uring is unavailable (see `backend` and `fallbackReason`).
 */
export class Ring {
  /** Which engine runs the ops: `'io_uring'` or `'node'`. */
  readonly backend: BackendKind
  /** Why io_uring is not used (undefined when it is). */
  readonly fallbackReason: string | undefined
  /**
   * How the ring was set up: `submitter` (a plain ring with a submit thread), `defer_taskrun`,
   * `coop_taskrun`, `plain`, `sqpoll`, or `node`.
   */
  readonly mode: RingMode
  /** The `node:fs/promises`-compatible API whose ops run on this ring. */
  readonly fs: FsApi
  /** Promise sockets on this ring (`listen`, `connect`); see `uring/net`. */
  readonly net: NetApi
  readonly #impl: Backend
  #closed = false

  constructor(options?: RingOptions) {
    const o = resolveOptions(options)
    let impl: Backend | undefined
    let reason = o.forcedBy
    if (reason === undefined) {
      const { binding, reason: loadReason } = loadNative()
      reason = loadReason
      if (binding) {
        try {
          impl = new UringBackend(binding, o)
        } catch (e) {
          reason = setupFailureReason(e)
        }
      }
    }
    if (impl === undefined) {
      if (o.backend === 'io_uring') {
        const err = new RingError('ERR_IO_URING_UNAVAILABLE', `io_uring is not available: ${reason}`) as RingError & { reason?: string }
        err.reason = reason
        throw err
      }
      impl = new NodeBackend()
    }
    this.#impl = impl
    this.backend = impl.kind
    this.fallbackReason = impl.kind === 'node' ? reason : undefined
    this.mode = impl.mode
    this.fs = new FsApi(() => this.#impl)
    this.net = new NetApi(() => this.#impl, o.socketBuffers)
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Counters: ops submitted/completed/in flight/queued and `io_uring_enter` calls made. */
  stats(): RingStats {
    return this.#impl.stats()
  }

  /**
   * A zero-copy buffer of `size` bytes (zero-filled): a Buffer over a SharedArrayBuffer, which
   * user code cannot detach, transfer away or shrink, so reads land in it and writes and sends go
   * out of it with no copy. Any other buffer is copied once per op (into memory the op owns,
   * and for reads back out at completion), which is what makes it safe to transfer or resize a
   * buffer while an op on it is in flight. Use this for large or hot buffers you reuse; a
   * SharedArrayBuffer of your own works the same. Any ring (and the node backend) can use it.
   */
  allocBuffer(size: number): Buffer {
    validateInteger(size, 'size', 0, kMaxLength)
    return Buffer.from(new SharedArrayBuffer(size))
  }

  /** Reads into the whole of `buffer` at `position` (-1 or omitted: the current position). Resolves to the bytes read. */
  read(fd: number, buffer: NodeJS.ArrayBufferView, position?: number | null, options?: OpOptions): Promise<number> {
    return rejecting(() => {
      validateFd(fd)
      validateBuffer(buffer)
      // As node:fs reads it: a detached DataView throws its TypeError here.
      validateNotAborting(buffer.byteLength, 'buffer.byteLength', 0)
      const pos = validateRingPosition(position)
      return this.#impl.read(fd, buffer, 0, byteLength(buffer), pos, Shape.Number, undefined, opSignal(options))
    })
  }

  /** Writes the whole of `buffer` at `position` (-1 or omitted: the current position). Resolves to the bytes written. */
  write(fd: number, buffer: NodeJS.ArrayBufferView, position?: number | null, options?: OpOptions): Promise<number> {
    return rejecting(() => {
      validateFd(fd)
      validateBuffer(buffer)
      // As node:fs reads it: a detached DataView throws its TypeError here.
      validateNotAborting(buffer.byteLength, 'buffer.byteLength', 0)
      const pos = validateRingPosition(position)
      return this.#impl.write(fd, buffer, 0, byteLength(buffer), pos, Shape.Number, undefined, opSignal(options))
    })
  }

  /** `preadv` into `buffers`. Resolves to the bytes read. */
  readv(fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number | null, options?: OpOptions): Promise<number> {
    return rejecting(() => {
      validateFd(fd)
      validateBufferArray(buffers)
      const pos = validateRingPosition(position)
      return this.#impl.readv(fd, buffers as NodeJS.ArrayBufferView[], pos, Shape.Number, undefined, opSignal(options))
    })
  }

  /** `pwritev` from `buffers`. Resolves to the bytes written. */
  writev(fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number | null, options?: OpOptions): Promise<number> {
    return rejecting(() => {
      validateFd(fd)
      validateBufferArray(buffers)
      const pos = validateRingPosition(position)
      return this.#impl.writev(fd, buffers as NodeJS.ArrayBufferView[], pos, Shape.Number, undefined, opSignal(options))
    })
  }

  /** Opens `path` (relative to the cwd) and resolves to the fd. `flags`: number or 'r', 'w+', ... (default 'r'). The fd is close-on-exec. */
  openat(path: PathLike, flags?: string | number, mode?: string | number, options?: OpOptions): Promise<number> {
    return rejecting(() => {
      const p = getValidatedPath(path)
      const f = stringToFlags(flags, 'r')
      const m = parseFileMode(mode, 'mode', 0o666)
      return this.#impl.open(p, f, m, opSignal(options))
    })
  }

  /** Closes a file descriptor. */
  closeFd(fd: number, options?: OpOptions): Promise<void> {
    return rejecting(() => {
      validateFd(fd)
      return this.#impl.close(fd, opSignal(options))
    })
  }

  /** `stat` of a path (follows symlinks). */
  stat(path: PathLike, options?: OpOptions): Promise<Stats> {
    return rejecting(() => {
      const p = getValidatedPath(path)
      return this.#impl.stat(p, true, opSignal(options))
    })
  }

  /** `lstat` of a path. */
  lstat(path: PathLike, options?: OpOptions): Promise<Stats> {
    return rejecting(() => {
      const p = getValidatedPath(path)
      return this.#impl.stat(p, false, opSignal(options))
    })
  }

  /** `fstat` of an fd. */
  fstat(fd: number, options?: OpOptions): Promise<Stats> {
    return rejecting(() => {
      validateFd(fd)
      return this.#impl.fstat(fd, undefined, opSignal(options))
    })
  }

  /** `fsync` of an fd. */
  fsync(fd: number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.fsync, [fd], options)
  }

  /** `fdatasync` of an fd. */
  fdatasync(fd: number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.fdatasync, [fd], options)
  }

  /** `ftruncate` of an fd to `length` bytes (default 0). */
  ftruncate(fd: number, length = 0, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.ftruncate, [fd, length], options)
  }

  /**
   * `fallocate(2)`: allocates `length` bytes from `offset`. `mode` 0 grows the file to cover
   * them; `FALLOC_FL_KEEP_SIZE` (1) keeps its size; other `FALLOC_FL_*` modes as the kernel
   * takes them (e.g. 3, `PUNCH_HOLE | KEEP_SIZE`). io_uring only (`IORING_OP_FALLOCATE`, 5.6):
   * node:fs has no fallocate, so on the node backend it rejects ENOTSUP, as fallocate(2) does
   * on a file system without it.
   */
  fallocate(fd: number, mode: number, offset: number, length: number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.fallocate, [fd, mode, offset, length], options)
  }

  /**
   * `posix_fadvise(2)`: `advice` about `length` bytes from `offset` (`length` 0: to the end),
   * by name (`'sequential'`, `'random'`, `'willneed'`, `'dontneed'`, `'noreuse'`, `'normal'`) or
   * number. On the node backend (node:fs has no fadvise) the fd is checked as the kernel would
   * (EBADF, ESPIPE) and the advice, which the kernel is free to ignore anyway, is not given.
   */
  fadvise(fd: number, offset: number, length: number, advice: Advice, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.fadvise, [fd, offset, length, advice], options)
  }

  /** access(2): whether `path` exists (`mode` F_OK, the default) or allows R_OK/W_OK/X_OK; rejects if not. No opcode: the ring's executor runs it. */
  access(path: PathLike, mode?: number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.access, [path, mode], options)
  }

  /** chmod(2) of `path` to `mode`. No opcode: the ring's executor runs it. */
  chmod(path: PathLike, mode: string | number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.chmod, [path, mode], options)
  }

  /** Removes a file. */
  unlink(path: PathLike, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.unlink, [path], options)
  }

  /** Removes an empty directory. */
  rmdir(path: PathLike, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.rmdir, [path], options)
  }

  /** Creates one directory (`mode` default 0o777). */
  mkdir(path: PathLike, mode?: string | number, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.mkdir, [path, mode], options)
  }

  /** Renames `oldPath` to `newPath`. */
  rename(oldPath: PathLike, newPath: PathLike, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.rename, [oldPath, newPath], options)
  }

  /** Creates a symbolic link at `path` pointing to `target`. */
  symlink(target: PathLike, path: PathLike, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.symlink, [target, path], options)
  }

  /** Creates a hard link `newPath` to `existingPath` (`linkat`: `link()` is the chain method). */
  linkat(existingPath: PathLike, newPath: PathLike, options?: OpOptions): Promise<void> {
    return this.#run(ROWS.link, [existingPath, newPath], options)
  }

  /** An op of the op table (ops.ts): arguments checked by its row, started by `Backend.call`. */
  #run(row: Row, values: unknown[], options: OpOptions | undefined): Promise<void> {
    return rejecting(() => {
      const a = checkArgs(row, values)
      return this.#impl.call(row, a, undefined, opSignal(options))
    })
  }

  /**
   * Starts every op of `ops` with one call: on io_uring they enter the submission queue together
   * and go to the kernel in one `io_uring_enter` (or none, with SQPOLL), and run in any order.
   * Resolves once all have finished, to a result per op in `Promise.allSettled`'s shape
   * (`{ status: 'fulfilled', value }` or `{ status: 'rejected', reason }`, the reason a
   * Node-style error with `code`, `errno`, `syscall` and `path`); a failed op never hides the
   * others' results. Rejects only when the arguments are wrong (nothing was started) or
   * `options.signal` had already aborted. See `BatchOp` for the ops and their results.
   */
  batch<const T extends readonly BatchOp[]>(ops: T, options?: BatchOptions): Promise<BatchResults<T>> {
    return rejecting(() => {
      const calls = checkOps(ops, false)
      return runBatch(this.#impl, calls, this.#start, batchSignal(options)) as Promise<any>
    })
  }

  /**
   * Runs `ops` as one chain (io_uring `IOSQE_IO_LINK`), e.g. write → fsync: each op starts only
   * once the one before it has succeeded in full. After a failure, or a read or write that moved
   * fewer bytes than it asked for, the ops after it are not run and report `ECANCELED`. Results
   * as `batch()`. On io_uring the chain is handed to the kernel whole; where it cannot be (the
   * node backend, an op the kernel lacks, more ops than the SQ holds) the ops run one after the
   * other with the same results.
   */
  link<const T extends readonly BatchOp[]>(ops: T, options?: BatchOptions): Promise<BatchResults<T>> {
    return rejecting(() => {
      const calls = checkOps(ops, false)
      return runLink(this.#impl, calls, this.#start, batchSignal(options)) as Promise<any>
    })
  }

  readonly #start: Starter = (c, signal) => c.start(this.#impl, c.fd, undefined, signal, PATH_FILES)

  /** An op that does nothing (`IORING_OP_NOP`): measures the ring's own overhead. */
  nop(options?: OpOptions): Promise<number> {
    return rejecting(() => this.#impl.nop(opSignal(options)))
  }

  /**
   * Cancels what can be cancelled, waits until every op in flight has settled (resolved or
   * rejected, e.g. with ECANCELED), then frees the ring. Later ops reject with `ERR_RING_CLOSED`.
   */
  close(): Promise<void> {
    this.#closed = true
    return this.#impl.close_()
  }

  /** `await using ring = new Ring()` closes the ring. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

let theDefault: Ring | undefined

/**
 * This thread's shared ring (created on first use with the default options; each worker thread
 * has its own). If it was closed, a new one is created.
 */
export function defaultRing(): Ring {
  if (theDefault === undefined || theDefault.closed) theDefault = new Ring()
  return theDefault
}

let theNetDefault: Ring | undefined

/**
 * This thread's shared ring for sockets (`uring/net`), created on first use. Unlike
 * `defaultRing()` it submits from this thread (`submitThread: false`): a socket's completions
 * are delivered through task work on the thread that submitted its request, so a submit thread
 * would add a second wake-up to every receive (measured: 0.8x node:net's request rate through
 * the submit thread, 1.37x inline). If it was closed, a new one is created.
 */
export function defaultNetRing(): Ring {
  if (theNetDefault === undefined || theNetDefault.closed) theNetDefault = new Ring({ submitThread: false })
  return theNetDefault
}
