// Batches and linked chains: many ops started by one call and settled by one promise, with a
// result per op in the shape of `Promise.allSettled`. The table `OPS` defines each op once: how
// its fields are checked, what it runs on a Backend, and the io_uring opcode it needs to be
// linked natively. `Ring.batch`/`Ring.link` and `FileHandle.batch`/`FileHandle.link` use it.
import type { Stats } from 'node:fs'
import { type Backend, type Owner, Shape } from './backend'
import type { OpName } from './op-names'
import { type Advice, pathsOf, ROWS, type Row } from './ops'
import { AbortError, invalidArgType, invalidArgValue, systemError, UV } from './errors'
import { byteLength } from './owned'
import {
  checkAborted,
  getOptions,
  getValidatedPath,
  parseFileMode,
  type PathLike,
  stringToFlags,
  validateAbortSignal,
  validateBuffer,
  validateBufferArray,
  validateInteger,
  validateNotAborting,
} from './validate'

type View = NodeJS.ArrayBufferView
/** A file position: an integer >= 0, or -1 / null / omitted for the file's current position. */
type Position = number | null

/** One op of `ring.batch()` / `ring.link()`, by its `op` name. */
export type BatchOp =
  /** Reads `length` bytes (default: to the end of `buffer`) into `buffer` from `offset` (default 0). Result: bytes read. */
  | { op: 'read'; fd: number; buffer: View; offset?: number; length?: number; position?: Position }
  /** Writes `length` bytes of `buffer` from `offset`. Result: bytes written. */
  | { op: 'write'; fd: number; buffer: View; offset?: number; length?: number; position?: Position }
  /** `preadv` into `buffers`. Result: bytes read. */
  | { op: 'readv'; fd: number; buffers: readonly View[]; position?: Position }
  /** `pwritev` from `buffers`. Result: bytes written. */
  | { op: 'writev'; fd: number; buffers: readonly View[]; position?: Position }
  | { op: 'fsync'; fd: number }
  | { op: 'fdatasync'; fd: number }
  /** Result: `Stats`. */
  | { op: 'fstat'; fd: number }
  /** Truncates (or extends) the file to `length` bytes (default 0). */
  | { op: 'ftruncate'; fd: number; length?: number }
  /**
   * `fallocate(2)` of `length` bytes from `offset` (default 0); `mode` default 0 (the file grows
   * to cover the range; 1, `FALLOC_FL_KEEP_SIZE`, keeps its size). io_uring only: ENOTSUP without.
   */
  | { op: 'fallocate'; fd: number; mode?: number; offset?: number; length: number }
  /** `posix_fadvise(2)`: `advice` about `length` bytes (default 0: to the end) from `offset` (default 0). */
  | { op: 'fadvise'; fd: number; offset?: number; length?: number; advice: Advice }
  | { op: 'close'; fd: number }
  /** Opens `path` (flags default `'r'`, mode default 0o666); the fd is close-on-exec. Result: the fd. */
  | { op: 'open'; path: PathLike; flags?: string | number; mode?: string | number }
  /** Result: `Stats`. */
  | { op: 'stat'; path: PathLike }
  /** Result: `Stats`. */
  | { op: 'lstat'; path: PathLike }
  /** access(2) for `mode` (default F_OK: exists). No opcode: the ring's executor runs it, and a link runs it on its own. */
  | { op: 'access'; path: PathLike; mode?: number }
  /** chmod(2). No opcode: as access. */
  | { op: 'chmod'; path: PathLike; mode: string | number }
  | { op: 'unlink'; path: PathLike }
  | { op: 'rmdir'; path: PathLike }
  /** Creates one directory (mode default 0o777). */
  | { op: 'mkdir'; path: PathLike; mode?: string | number }
  | { op: 'rename'; oldPath: PathLike; newPath: PathLike }
  | { op: 'symlink'; target: PathLike; path: PathLike }
  | { op: 'link'; existingPath: PathLike; newPath: PathLike }
  /**
   * A whole file, as `readFile(path)`: on io_uring one linked submission (open into a slot of
   * the ring's file table → read → read), no fd. Result: a Buffer.
   */
  | { op: 'readFile'; path: PathLike; flag?: string | number }
  /** `writeFile(path, data)` (flag default `'w'`, mode 0o666, strings as `encoding`, default utf8). */
  | { op: 'writeFile'; path: PathLike; data: string | View; flag?: string | number; mode?: string | number; encoding?: BufferEncoding }
  /** Does nothing (`IORING_OP_NOP`). Result: 0. */
  | { op: 'nop' }

/** The value of each op's result when it succeeds. */
export interface BatchResultMap {
  read: number
  write: number
  readv: number
  writev: number
  fsync: undefined
  fdatasync: undefined
  fstat: Stats
  ftruncate: undefined
  fallocate: undefined
  fadvise: undefined
  close: undefined
  open: number
  stat: Stats
  lstat: Stats
  access: undefined
  chmod: undefined
  unlink: undefined
  rmdir: undefined
  mkdir: undefined
  rename: undefined
  symlink: undefined
  link: undefined
  readFile: Buffer
  writeFile: undefined
  nop: number
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * One op of `fileHandle.batch()` / `fileHandle.link()`: the ops of an fd, without the fd (and
 * without `close`: the handle's own `close()` does that).
 */
export type FileBatchOp = DistributiveOmit<Exclude<Extract<BatchOp, { fd: number }>, { op: 'close' }>, 'fd'>

/** A result per op, in the order of the ops, shaped as `Promise.allSettled`'s. */
export type BatchResults<T extends readonly { op: keyof BatchResultMap }[]> = {
  -readonly [K in keyof T]: PromiseSettledResult<BatchResultMap[T[K]['op']]>
}

export interface BatchOptions {
  /**
   * Aborting cancels every op of the batch still running (io_uring: `ASYNC_CANCEL`); each of
   * them reports an `AbortError` (an op that finished anyway may still have had its effect,
   * e.g. a write). An fd an aborted `open` returned is closed.
   */
  signal?: AbortSignal
}

/** One checked op, ready to start. */
export interface Call {
  readonly syscall: string
  /** The io_uring opcode it runs as (what a native chain needs the kernel to support). */
  /** The io_uring opcode it runs as, where it is one (a readFile or writeFile is several: none). */
  readonly opcode: OpName | undefined
  readonly path?: string | Buffer
  readonly dest?: string | Buffer
  /** Bytes a read or write asks for: fewer ends a chain, as io_uring does. -1 for other ops. */
  readonly want: number
  /** The fd of a Ring op (-1 for path ops, and for FileHandle ops, which bring their own). */
  readonly fd: number
  /** `files`: readFile/writeFile of a path, handed in by a Ring's batch (the only kind that holds them). */
  start(b: Backend, fd: number, owner: Owner | undefined, signal: AbortSignal | undefined, files?: PathFiles): Promise<unknown>
}

/**
 * readFile and writeFile of a path (fs-api.ts's `readPath`/`writePath`), handed to the ops of a
 * batch by the Ring that starts it: this module cannot import them, since FileHandle, which they
 * build on, imports this module.
 */
export interface PathFiles {
  readPath(b: Backend, p: string | Buffer, flags: number, signal: AbortSignal | undefined): Promise<Buffer>
  writePath(b: Backend, p: string | Buffer, flags: number, mode: number, data: string | View, encoding: BufferEncoding, flush: boolean, signal: AbortSignal | undefined): Promise<void>
}

interface Def {
  /** Takes an fd. */
  readonly fd: boolean
  /** A FileHandle's batch may hold it (every op of an fd but close). */
  readonly handle?: boolean
  /** Checks op `i` (`o`); argument errors name `ops[i].field`. */
  check(o: any, i: number, fd: number): Call
}

function position(o: any, at: string): number {
  const p = o.position
  if (p === undefined || p === null) return -1
  validateInteger(p, `${at}.position`, -1)
  return p
}

function path(o: any, key: string, at: string): string | Buffer {
  return getValidatedPath(o[key], `${at}.${key}`)
}

/** A read or write: its start is shared (no closure per op), its arguments are fields. */
interface RwCall extends Call {
  readonly buffer: View
  readonly offset: number
  readonly length: number
  readonly pos: number
}

function readStart(this: RwCall, b: Backend, fd: number, owner: Owner | undefined, signal: AbortSignal | undefined): Promise<unknown> {
  return b.read(fd, this.buffer, this.offset, this.length, this.pos, Shape.Number, owner, signal)
}

function writeStart(this: RwCall, b: Backend, fd: number, owner: Owner | undefined, signal: AbortSignal | undefined): Promise<unknown> {
  return b.write(fd, this.buffer, this.offset, this.length, this.pos, Shape.Number, owner, signal)
}

function rw(write: boolean): Def {
  const syscall = write ? 'write' : 'read'
  const start = write ? writeStart : readStart
  return {
    fd: true,
    handle: true,
    check(o, i, fd): RwCall | Call {
      // The checks of the hot path build no argument names unless one fails.
      const buffer = o.buffer as View
      if (!ArrayBuffer.isView(buffer)) validateBuffer(buffer, `ops[${i}].buffer`)
      // A write from a DataView whose buffer was detached: node:fs's write reads its byteLength,
      // which throws; that op alone rejects with the TypeError (a read of it reads 0 bytes).
      if (write && buffer instanceof DataView) {
        try {
          void buffer.byteLength
        } catch (e) {
          // node:fs checks the offset first.
          if (o.offset != null) validateInteger(o.offset, `ops[${i}].offset`, 0)
          return { syscall, opcode: undefined, want: -1, fd, start: (_b, _fd, owner) => (owner?.release(), Promise.reject(e)) }
        }
      }
      const size = byteLength(buffer) // 0 for a detached view (a DataView's getter throws), as node:fs sees it
      const offset = o.offset ?? 0
      if (!(Number.isInteger(offset) && offset >= 0 && offset <= size)) validateInteger(offset, `ops[${i}].offset`, 0, size)
      const length = o.length ?? size - offset
      if (!(Number.isInteger(length) && length >= 0 && length <= size - offset)) validateInteger(length, `ops[${i}].length`, 0, size - offset)
      // Past int32, or a write's -0: node:fs's binding would abort (see validateNotAborting).
      if (length > 2147483647 || (write && Object.is(length, -0))) validateNotAborting(length, `ops[${i}].length`, 0)
      let pos = o.position
      if (pos === undefined || pos === null) pos = -1
      else if (!(Number.isSafeInteger(pos) && pos >= -1)) validateInteger(pos, `ops[${i}].position`, -1)
      return { syscall, opcode: syscall, want: length, fd, buffer, offset, length, pos, start }
    },
  }
}

function rwv(write: boolean): Def {
  const syscall = write ? 'write' : 'read'
  return {
    fd: true,
    handle: true,
    check(o, i, fd) {
      const at = `ops[${i}]`
      validateBufferArray(o.buffers, `${at}.buffers`)
      const buffers = o.buffers as View[]
      const pos = position(o, at)
      return {
        syscall,
        opcode: write ? 'writev' : 'readv',
        want: buffers.reduce((n, b) => n + byteLength(b), 0),
        fd,
        start: write ? (b, fd, owner, signal) => b.writev(fd, buffers, pos, Shape.Number, owner, signal) : (b, fd, owner, signal) => b.readv(fd, buffers, pos, Shape.Number, owner, signal),
      }
    },
  }
}

function fdOp(syscall: string, opcode: OpName, start: Call['start'], handle = true): Def {
  return { fd: true, handle, check: (_o, _i, fd) => ({ syscall, opcode, want: -1, fd, start }) }
}

function pathOp(syscall: string, opcode: OpName, run: (b: Backend, path: string | Buffer, signal: AbortSignal | undefined) => Promise<unknown>): Def {
  return {
    fd: false,
    check(o, i) {
      const p = path(o, 'path', `ops[${i}]`)
      return { syscall, opcode, path: p, want: -1, fd: -1, start: (b, _fd, _owner, signal) => run(b, p, signal) }
    },
  }
}

/** An op of the op table (ops.ts): its fields checked by the row, started by `Backend.call`. */
function fromRow(row: Row): Def {
  return {
    fd: row.fd,
    handle: row.fd,
    check(o, i, fd) {
      const at = `ops[${i}]`
      const a = new Array<unknown>(row.args.length + (row.fd ? 1 : 0))
      let k = 0
      if (row.fd) a[k++] = fd
      for (const arg of row.args) a[k++] = arg.check(o[arg.key], `${at}.${arg.key}`)
      const [p, d] = pathsOf(row, a)
      const start: Call['start'] = row.fd
        ? (b, fd, owner, signal) => {
            a[0] = fd
            return b.call(row, a, owner, signal)
          }
        : (b, _fd, owner, signal) => b.call(row, a, owner, signal)
      return { syscall: row.syscall, opcode: row.opcode, path: p, dest: d, want: -1, fd, start }
    },
  }
}

/** Every op a batch or chain can hold, defined once. */
const OPS: Record<keyof BatchResultMap, Def> = {
  read: rw(false),
  write: rw(true),
  readv: rwv(false),
  writev: rwv(true),
  fsync: fromRow(ROWS.fsync),
  fdatasync: fromRow(ROWS.fdatasync),
  fstat: fdOp('fstat', 'statx', (b, fd, owner, signal) => b.fstat(fd, owner, signal)),
  ftruncate: fromRow(ROWS.ftruncate),
  fallocate: fromRow(ROWS.fallocate),
  fadvise: fromRow(ROWS.fadvise),
  close: fdOp('close', 'close', (b, fd, _owner, signal) => b.close(fd, signal), false),
  open: {
    fd: false,
    check(o, i) {
      const at = `ops[${i}]`
      const p = path(o, 'path', at)
      const flags = stringToFlags(o.flags, 'r', `${at}.flags`)
      const mode = parseFileMode(o.mode, `${at}.mode`, 0o666)
      return { syscall: 'open', opcode: 'openat', path: p, want: -1, fd: -1, start: (b, _fd, _owner, signal) => b.open(p, flags, mode, signal) }
    },
  },
  stat: pathOp('stat', 'statx', (b, p, signal) => b.stat(p, true, signal)),
  lstat: pathOp('lstat', 'statx', (b, p, signal) => b.stat(p, false, signal)),
  access: fromRow(ROWS.access),
  chmod: fromRow(ROWS.chmod),
  unlink: fromRow(ROWS.unlink),
  rmdir: fromRow(ROWS.rmdir),
  mkdir: fromRow(ROWS.mkdir),
  rename: fromRow(ROWS.rename),
  symlink: fromRow(ROWS.symlink),
  link: fromRow(ROWS.link),
  readFile: {
    fd: false,
    check(o, i) {
      const at = `ops[${i}]`
      const p = path(o, 'path', at)
      // As readFile(path, { flag }): Node reads `flag || 'r'` (and writeFile `flag || 'w'`).
      const flags = stringToFlags(o.flag || 'r', 'r', `${at}.flag`)
      return { syscall: 'open', opcode: undefined, path: p, want: -1, fd: -1, start: (b, _fd, _owner, signal, files) => alone(b, () => files!.readPath(b, p, flags, signal)) }
    },
  },
  writeFile: {
    fd: false,
    check(o, i) {
      const at = `ops[${i}]`
      // Node's writeFile order: the encoding (its options), the data, then the path (its open).
      const encoding = o.encoding || 'utf8'
      // 'buffer' passes the option check (and is ignored for binary data); a string is encoded
      // at once, so 'buffer' then fails with ERR_UNKNOWN_ENCODING.
      if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) throw invalidArgValue(`${at}.encoding`, encoding, 'is invalid encoding')
      let data = o.data
      if (typeof data !== 'string' && !ArrayBuffer.isView(data)) throw invalidArgType(`${at}.data`, ['string', 'Buffer', 'TypedArray', 'DataView'], data)
      if (typeof data === 'string') data = Buffer.from(data, encoding)
      const p = path(o, 'path', at)
      const flags = stringToFlags(o.flag || 'w', 'w', `${at}.flag`)
      const mode = parseFileMode(o.mode, `${at}.mode`, 0o666)
      return {
        syscall: 'open',
        opcode: undefined,
        path: p,
        want: -1,
        fd: -1,
        start: (b, _fd, _owner, signal, files) => alone(b, () => files!.writePath(b, p, flags, mode, data as string | View, encoding, false, signal)),
      }
    },
  },
  nop: { fd: false, check: () => ({ syscall: 'nop', opcode: 'nop', want: -1, fd: -1, start: (b, _fd, _owner, signal) => b.nop(signal) }) },
}

const DEFS = new Map(Object.entries(OPS) as Array<[string, Def]>)

/**
 * Checks every op (all before any starts). `fileOps`: the ops are a FileHandle's, which take no
 * `fd` field. Throws Node-style argument errors naming the op (`ops[3].buffer`).
 */
export function checkOps(ops: unknown, fileOps: boolean): Call[] {
  if (!Array.isArray(ops)) throw invalidArgType('ops', 'Array', ops)
  const calls = new Array<Call>(ops.length)
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalidArgType(`ops[${i}]`, 'Object', o)
    const name = (o as { op?: unknown }).op
    const def = typeof name === 'string' ? DEFS.get(name) : undefined
    if (def === undefined || (fileOps && !def.handle)) {
      const names = [...DEFS.keys()].filter((k) => !fileOps || DEFS.get(k)!.handle)
      throw invalidArgValue(`ops[${i}].op`, name, `must be one of ${names.map((n) => `'${n}'`).join(', ')}`)
    }
    let fd = -1
    if (def.fd && !fileOps) {
      const v = (o as { fd?: unknown }).fd
      if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2147483647)) {
        if (typeof v !== 'number') throw invalidArgType(`ops[${i}].fd`, 'number', v)
        validateInteger(v, `ops[${i}].fd`, 0, 2147483647)
      }
      fd = v as number
    }
    calls[i] = def.check(o, i, fd)
  }
  return calls
}

/** `{ signal }`, checked (and not aborted yet). */
export function batchSignal(options: unknown): AbortSignal | undefined {
  const { signal } = getOptions(options, { signal: undefined as AbortSignal | undefined })
  validateAbortSignal(signal, 'options.signal')
  checkAborted(signal)
  return signal
}

/** How a batch starts an op: a Ring passes the op's fd; a FileHandle its own (or throws when closed). */
export type Starter = (c: Call, signal: AbortSignal | undefined) => Promise<unknown>

/** A readFile/writeFile op: several ops of its own, each settling itself (see `Backend.alone`). */
function alone<R>(b: Backend, f: () => R): R {
  return b.alone !== undefined ? b.alone(f) : f()
}

function startOne(start: Starter, c: Call, signal: AbortSignal | undefined): Promise<unknown> {
  try {
    return start(c, signal)
  } catch (e) {
    return Promise.reject(e)
  }
}

/** Starts every op at once (io_uring: submitted together, run in any order). */
export function runBatch(backend: Backend, calls: Call[], start: Starter, signal: AbortSignal | undefined): Promise<PromiseSettledResult<unknown>[]> {
  if (backend.settleAll !== undefined) return backend.settleAll(calls.length, (i) => startOne(start, calls[i], signal))
  const started = new Array<Promise<unknown>>(calls.length)
  for (let i = 0; i < calls.length; i++) started[i] = startOne(start, calls[i], signal)
  return Promise.allSettled(started)
}

/**
 * Opcodes whose failure (or, for reads and writes, short result) makes the kernel cancel the
 * rest of a chain. Others (fsync, statx, ftruncate, unlinkat, renameat, mkdirat, symlinkat,
 * linkat) report their error and let the chain go on when they fail while running, as measured
 * on Linux 6.18 (`__test__/batch.spec.ts`): such an op ends a native segment, and the segment
 * after it starts only once it has succeeded.
 */
const KERNEL_CANCELS = new Set<OpName | undefined>(['read', 'write', 'readv', 'writev', 'openat', 'close', 'nop'])

function failed(c: Call, r: PromiseSettledResult<unknown>): boolean {
  return r.status === 'rejected' || (c.want >= 0 && r.value !== c.want)
}

/**
 * Runs the ops as a chain: each starts only after the one before succeeded in full; after a
 * failure, or a read or write that moved fewer bytes than asked, the rest report ECANCELED (or
 * an AbortError once `signal` has aborted). The ops go to the kernel as linked segments
 * (`Backend.chain`), each ending at the first op whose failure the kernel would not propagate;
 * where the backend cannot link, they run one after the other here, with the same results.
 */
export async function runLink(backend: Backend, calls: Call[], start: Starter, signal: AbortSignal | undefined): Promise<PromiseSettledResult<unknown>[]> {
  const out: PromiseSettledResult<unknown>[] = []
  let broken = false
  let i = 0
  while (i < calls.length) {
    let j = i
    while (j < calls.length - 1 && KERNEL_CANCELS.has(calls[j].opcode)) j++
    const segment = calls.slice(i, j + 1)
    i = j + 1
    if (!broken && signal?.aborted) broken = true
    if (broken) {
      for (const c of segment) out.push({ status: 'rejected', reason: cancelled(c, signal) })
      continue
    }
    const native =
      segment.length > 1
        ? backend.chain?.(
            segment.map((c) => c.opcode),
            () => segment.map((c) => startOne(start, c, signal)),
          )
        : undefined
    if (native !== undefined) {
      const results = await Promise.allSettled(native)
      const k = refusedAtPrep(results, signal)
      if (k > 0) {
        // The kernel refused op k as it prepared it (a path past PATH_MAX, say), before it issued
        // any op of the chain, and cancelled those before it as well; a chain runs them first, as
        // the node backend does. So they run again, without it; op k keeps its error if they all
        // succeed, and the rest are cancelled, as after any failure.
        const ran = await runLink(backend, segment.slice(0, k), start, signal)
        out.push(...ran)
        const ok = ran.every((r, m) => !failed(segment[m], r))
        for (let m = k; m < segment.length; m++) out.push(ok && m === k ? results[k] : { status: 'rejected', reason: cancelled(segment[m], signal) })
        broken = true
        continue
      }
      for (let k = 0; k < segment.length; k++) {
        out.push(results[k])
        if (failed(segment[k], results[k])) broken = true
      }
      continue
    }
    for (const c of segment) {
      if (!broken && signal?.aborted) broken = true
      if (broken) {
        out.push({ status: 'rejected', reason: cancelled(c, signal) })
        continue
      }
      const r = await startOne(start, c, signal).then(
        (value): PromiseSettledResult<unknown> => ({ status: 'fulfilled', value }),
        (reason): PromiseSettledResult<unknown> => ({ status: 'rejected', reason }),
      )
      out.push(r)
      if (failed(c, r)) broken = true
    }
  }
  return out
}

/**
 * The op the kernel refused as it prepared the chain: the first to fail other than with
 * ECANCELED, when every op before it reports ECANCELED (after a failure that ran, those before
 * it succeeded); 0 when there is none, or when the signal aborted.
 */
function refusedAtPrep(results: PromiseSettledResult<unknown>[], signal: AbortSignal | undefined): number {
  if (signal?.aborted) return 0
  const code = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as { code?: unknown })?.code : undefined)
  const k = results.findIndex((r) => r.status === 'fulfilled' || code(r) !== 'ECANCELED')
  return k > 0 && results[k].status === 'rejected' ? k : 0
}

/** The reason of an op a chain did not run: ECANCELED, as io_uring reports it, or the abort. */
function cancelled(c: Call, signal: AbortSignal | undefined): Error {
  return signal?.aborted ? new AbortError(undefined, { cause: signal.reason }) : systemError(UV.ECANCELED, c.syscall, c.path, c.dest)
}
