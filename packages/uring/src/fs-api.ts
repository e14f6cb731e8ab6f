// The node:fs/promises-compatible API, written once over the Backend interface so that the
// io_uring and node:fs backends share every argument check, result shape and error.
import { EventEmitter } from 'node:events'
import * as nodeFs from 'node:fs'
import { type BigIntStats, constants, type Stats } from 'node:fs'
import * as nodeFsP from 'node:fs/promises'
import { dirname } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { ReadableStream } from 'node:stream/web'
import { ReadStream, type ReadStreamOptions, WriteStream, type WriteStreamOptions } from './fs-streams'
import { type Backend, type OpenedRead, type Owner, Shape } from './backend'
import { byteLength } from './owned'
import { type BatchOptions, type BatchResults, batchSignal, checkOps, type FileBatchOp, runBatch, runLink, type Starter } from './batch'
import { invalidArgType, invalidArgValue, invalidState, NodeStyleError, rejecting, type SystemError, UV, systemError } from './errors'
import {
  checkAborted,
  getOptions,
  ioOptions,
  lenientPosition,
  getValidatedPath,
  NODE_MAJOR,
  parseFileMode,
  type PathLike,
  stringToFlags,
  validateAbortSignal,
  validateBoolean,
  validateBuffer,
  validateBufferArray,
  validateEncoding,
  validateInteger,
  validateNotAborting,
  validateObject,
  validateOffsetLengthRead,
  validateOffsetLengthWrite,
  validatePosition,
  validateInt32,
  validateUint32,
} from './validate'

export type { PathLike }
export type OpenMode = string | number
export type Mode = string | number
export type Encoding = BufferEncoding | 'buffer' | null

/** The result of `FileHandle.read`. */
export interface FileReadResult<T extends NodeJS.ArrayBufferView = Buffer> {
  bytesRead: number
  buffer: T
}
/** The result of `FileHandle.write`. */
export interface FileWriteResult<T = Buffer> {
  bytesWritten: number
  buffer: T
}
export interface ReadVResult<T extends readonly NodeJS.ArrayBufferView[]> {
  bytesRead: number
  buffers: T
}
export interface WriteVResult<T extends readonly NodeJS.ArrayBufferView[]> {
  bytesWritten: number
  buffers: T
}
export interface FileReadOptions<T extends NodeJS.ArrayBufferView = Buffer> {
  buffer?: T
  offset?: number | null
  length?: number | null
  position?: number | bigint | null
}
export interface StatOptions {
  bigint?: boolean
}
export interface ReadFileOptions {
  encoding?: Encoding
  flag?: OpenMode
  signal?: AbortSignal
}
export interface WriteFileOptions {
  encoding?: BufferEncoding | null
  mode?: Mode
  flag?: OpenMode
  signal?: AbortSignal
  /** fsync the file before closing it (path form only, as in Node). */
  flush?: boolean
}
export interface MakeDirectoryOptions {
  recursive?: boolean
  mode?: Mode
}
export interface RmDirOptions {
  /** @deprecated as in Node: use `rm(path, { recursive: true })`. Runs on node:fs. */
  recursive?: boolean
  maxRetries?: number
  retryDelay?: number
}
/** What `writeFile`/`appendFile` accept. */
export type WriteData =
  | string
  | NodeJS.ArrayBufferView
  | Iterable<string | NodeJS.ArrayBufferView>
  | AsyncIterable<string | NodeJS.ArrayBufferView>

/** Most buffers one preadv/pwritev takes (Linux UIO_MAXIOV). */
const IOV_MAX = 1024
/** Largest single read or write, as Node (2 GiB - 1). */
const kIoMaxLength = 2 ** 31 - 1
/** Read size when a file reports size 0 (procfs, pipes). */
const kReadFileUnknownBufferLength = 64 * 1024
/** Largest chunk `readFile` asks for at once. */
const kReadFileBufferLength = 512 * 1024
const kWriteFileMaxChunkSize = 512 * 1024
const S_IFMT = constants.S_IFMT
const S_IFREG = constants.S_IFREG
/** Open flags that can create a file, which then takes the open's mode: O_CREAT, Linux's __O_TMPFILE. */
const CREATES = constants.O_CREAT | 0o20000000

/** Node 20's FileHandle.read treats any position but a safe integer as "current position";
 * Node 22 validates it (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE) and accepts bigints. */
const LENIENT_READ_POSITION = NODE_MAJOR <= 20

function readPosition(position: unknown, length: number): number {
  if (position == null) return -1
  if (LENIENT_READ_POSITION) return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : -1
  return validatePosition(position, 'position', length)
}

function fileClosed(syscall: string): Error {
  // Node's own error for an op on a closed FileHandle.
  const err = new Error('file closed') as Error & { code: string; syscall: string }
  err.code = 'EBADF'
  err.syscall = syscall
  return err
}


function isArrayBufferView(v: unknown): v is NodeJS.ArrayBufferView {
  return ArrayBuffer.isView(v)
}

function toBytes(v: NodeJS.ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

/**
 * FileHandles collected while still open: their fd is closed, with the warning Node gives
 * ("Closing file descriptor N on garbage collection"). A handle with ops in flight is never
 * collected (each op holds it until it completes).
 */
const unclosed = new FinalizationRegistry<{ fd: number; backend: Backend }>(({ fd, backend }) => {
  backend.disown?.(fd)
  // At once, as Node's FileHandle does in its destructor: an asynchronous close could still be
  // waiting on the thread pool when a worker ends, and the disowned fd would leak (seen on Node 24).
  try {
    nodeFs.closeSync(fd)
  } catch {
    // closed behind the handle's back
  }
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`, 'Warning')
})

/**
 * A file opened on a ring: the `node:fs/promises` FileHandle, whose ops run on that ring.
 * `close()` waits for the handle's ops in flight, then closes the fd; later ops reject with EBADF.
 */
export class FileHandle extends EventEmitter implements Owner {
  #fd: number
  #backend: Backend
  /** Ops of this handle not yet completed. */
  #pending = 0
  #closing: Promise<void> | undefined
  #drained: (() => void) | undefined

  /** @internal */
  constructor(backend: Backend, fd: number) {
    super()
    this.#backend = backend
    this.#fd = fd
    backend.own?.(fd)
    unclosed.register(this, { fd, backend }, this)
  }

  /** The numeric file descriptor, or -1 once the handle is closed. */
  get fd(): number {
    return this.#fd
  }

  /** @internal Owner: one op of this handle completed. */
  release(): void {
    if (--this.#pending === 0 && this.#drained !== undefined) this.#drained()
  }

  /** Throws Node's "file closed" (EBADF, `syscall`) once the handle is closed or closing. */
  #checkOpen(syscall: string): void {
    if (this.#fd === -1 || this.#closing !== undefined) throw fileClosed(syscall)
  }

  /** The fd for a new op, counted as pending; throws Node's "file closed" when closed. */
  #use(syscall: string): number {
    this.#checkOpen(syscall)
    this.#pending++
    return this.#fd
  }

  /**
   * Reads into `buffer` (default: a new 16 KiB Buffer) at `position` (null or -1: the current
   * file position, which then advances). Forms: `read(buffer, offset?, length?, position?)`,
   * `read(buffer, { offset, length, position })`, `read({ buffer, offset, length, position })`.
   */
  read<T extends NodeJS.ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<FileReadResult<T>>
  read<T extends NodeJS.ArrayBufferView = Buffer>(buffer: T, options?: FileReadOptions<T>): Promise<FileReadResult<T>>
  read<T extends NodeJS.ArrayBufferView = Buffer>(options?: FileReadOptions<T>): Promise<FileReadResult<T>>
  read(bufferOrOptions?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<FileReadResult<any>> {
    // Fast path: read(buffer, offset, length, position) with plain integers.
    if (
      typeof offset === 'number' && typeof length === 'number' && typeof position === 'number' &&
      isArrayBufferView(bufferOrOptions) && length > 0 && (offset | 0) === offset && (length | 0) === length &&
      offset >= 0 && offset + length <= byteLength(bufferOrOptions) && Number.isSafeInteger(position) && position >= -1 &&
      this.#fd !== -1 && this.#closing === undefined
    ) {
      this.#pending++
      return this.#backend.read(this.#fd, bufferOrOptions, offset, length, position, Shape.Read, this)
    }
    return rejecting(() => this.#readSlow(bufferOrOptions, offset, length, position))
  }

  #readSlow(bufferOrOptions: unknown, offset: unknown, length: unknown, position: unknown): Promise<FileReadResult<any>> {
    this.#checkOpen('read') // as Node's fsCall: before any argument
    let buffer = bufferOrOptions as NodeJS.ArrayBufferView
    if (!isArrayBufferView(buffer)) {
      if (bufferOrOptions !== undefined) validateObject(bufferOrOptions, 'options', true)
      // As Node destructures it, only an undefined buffer is the default one (null is an error).
      const o = (bufferOrOptions ?? {}) as FileReadOptions<any>
      buffer = o.buffer === undefined ? Buffer.alloc(16384) : o.buffer
      validateBuffer(buffer)
      ;[offset, length, position] = ioOptions(o, buffer.byteLength)
    }
    if (offset !== null && typeof offset === 'object') [offset, length, position] = ioOptions(offset, buffer.byteLength)
    if (offset == null) offset = 0
    else validateInteger(offset, 'offset', 0)
    length ??= buffer.byteLength - (offset as number)
    // `bytesRead: length`, as Node 20 and 22: -0 for a length of -0 (Node 24 gives 0).
    if (length === 0) return Promise.resolve({ __proto__: null, bytesRead: NODE_MAJOR >= 24 ? 0 : length, buffer } as any)
    if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written')
    validateInteger(length, 'length', 0)
    validateOffsetLengthRead(offset as number, length, buffer.byteLength)
    // Past int32 (a buffer over 2 GiB), Node's binding aborts: rejected instead.
    validateNotAborting(length, 'length', 0)
    const pos = readPosition(position, length)
    const fd = this.#use('read')
    return this.#backend.read(fd, buffer, offset as number, length, pos, Shape.Read, this)
  }

  /**
   * Writes `buffer` (or a string, encoded with `encoding`) at `position` (null: the current
   * position). Forms: `write(buffer, offset?, length?, position?)`,
   * `write(buffer, { offset, length, position })`, `write(string, position?, encoding?)`.
   */
  write<T extends NodeJS.ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: number | null): Promise<FileWriteResult<T>>
  write<T extends NodeJS.ArrayBufferView>(buffer: T, options?: { offset?: number; length?: number; position?: number | null }): Promise<FileWriteResult<T>>
  write(data: string, position?: number | null, encoding?: BufferEncoding | null): Promise<FileWriteResult<string>>
  write(buffer: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): Promise<FileWriteResult<any>> {
    return rejecting(() => this.#write(buffer, offsetOrOptions, length, position))
  }

  #write(buffer: unknown, offsetOrOptions: unknown, length: unknown, position: unknown): Promise<FileWriteResult<any>> {
    this.#checkOpen('write') // as Node's fsCall: before any argument
    if ((buffer as NodeJS.ArrayBufferView | undefined)?.byteLength === 0) {
      return Promise.resolve({ __proto__: null, bytesWritten: 0, buffer } as any)
    }
    if (isArrayBufferView(buffer)) {
      let offset = offsetOrOptions
      // As Node, `typeof offset === 'object'`: null too, which then means every default.
      if (typeof offset === 'object') [offset, length, position] = ioOptions(offset ?? {}, buffer.byteLength)
      if (offset == null) offset = 0
      else validateInteger(offset, 'offset', 0)
      if (typeof length !== 'number') length = buffer.byteLength - (offset as number)
      const pos = lenientPosition(position)
      validateOffsetLengthWrite(offset as number, length as number, buffer.byteLength)
      const fd = this.#use('write')
      return this.#backend.write(fd, buffer, offset as number, length as number, pos, Shape.Write, this)
    }
    if (typeof buffer !== 'string') throw invalidArgType('buffer', ['string', 'Buffer', 'TypedArray', 'DataView'], buffer)
    // As Node: only hex is checked (an even number of characters); its binding writes any other
    // encoding it does not know, or a non-string, as utf8.
    const encoding = typeof length === 'string' && Buffer.isEncoding(length) ? (length.toLowerCase() as BufferEncoding) : 'utf8'
    if (encoding === 'hex' && buffer.length % 2 !== 0) throw invalidArgValue('encoding', length, `is invalid for data of length ${buffer.length}`)
    const bytes = Buffer.from(buffer, encoding)
    const pos = lenientPosition(offsetOrOptions)
    // Even '' is written, as Node's writeString does (a handle not open for writing: EBADF).
    const fd = this.#use('write')
    return this.#backend.write(fd, bytes, 0, bytes.length, pos, Shape.Number, this).then((n: number) => ({ __proto__: null, bytesWritten: n, buffer }) as any)
  }

  /** Reads into several buffers in one op (`preadv`), at `position` (null: current position). */
  readv<T extends readonly NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<ReadVResult<T>> {
    return rejecting(() => {
      this.#checkOpen('readv')
      validateBufferArray(buffers)
      const pos = lenientPosition(position)
      const fd = this.#use('readv')
      const all = buffers as unknown as NodeJS.ArrayBufferView[]
      if (all.length <= IOV_MAX) return this.#backend.readv(fd, all, pos, Shape.Readv, this)
      // As libuv: one preadv of the first IOV_MAX buffers (a short read, which callers handle).
      return this.#backend.readv(fd, all.slice(0, IOV_MAX), pos, Shape.Number, this).then((n: number) => ({ __proto__: null, bytesRead: n, buffers }) as any)
    })
  }

  /** Writes several buffers in one op (`pwritev`), at `position` (null: current position). */
  writev<T extends readonly NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<WriteVResult<T>> {
    return rejecting(() => {
      this.#checkOpen('writev')
      validateBufferArray(buffers)
      const pos = lenientPosition(position)
      if (buffers.length === 0) return Promise.resolve({ __proto__: null, bytesWritten: 0, buffers } as any)
      const all = buffers as unknown as NodeJS.ArrayBufferView[]
      if (all.length <= IOV_MAX) return this.#backend.writev(this.#use('writev'), all, pos, Shape.Writev, this)
      return this.#writevAll(all, pos).then((n) => ({ __proto__: null, bytesWritten: n, buffers }) as any)
    })
  }

  /** More than IOV_MAX buffers: pwritev of IOV_MAX at a time, as libuv does, until one comes back short. */
  async #writevAll(buffers: NodeJS.ArrayBufferView[], pos: number): Promise<number> {
    let total = 0
    for (let i = 0; i < buffers.length; i += IOV_MAX) {
      const group = buffers.slice(i, i + IOV_MAX)
      const want = group.reduce((n, b) => n + b.byteLength, 0)
      const n = (await this.#backend.writev(this.#use('writev'), group, pos < 0 ? -1 : pos + total, Shape.Number, this)) as number
      total += n
      if (n < want) break
    }
    return total
  }

  /** `fstat` of the file. `{ bigint: true }` gives `BigIntStats` (computed by node:fs). */
  stat(options?: StatOptions & { bigint?: false }): Promise<Stats>
  stat(options: StatOptions & { bigint: true }): Promise<BigIntStats>
  stat(options?: StatOptions): Promise<Stats | BigIntStats>
  async stat(options?: StatOptions): Promise<Stats | BigIntStats> {
    const bigint = statBigint(options)
    const fd = this.#use('fstat')
    if (bigint) return this.#backend.delegate('fstat', () => callback<BigIntStats>((cb) => nodeFs.fstat(fd, { bigint: true }, cb)), this)
    return this.#backend.fstat(fd, this)
  }

  /**
   * Starts every op of `ops` on this file with one call (see `Ring.batch`): reads and writes at
   * given positions, `readv`/`writev`, `fsync`/`fdatasync`, `fstat`, `ftruncate`. Resolves to a
   * result per op in `Promise.allSettled`'s shape. Rejects (starting nothing) when an argument is
   * wrong, the handle is closed, or `options.signal` had already aborted.
   */
  batch<const T extends readonly FileBatchOp[]>(ops: T, options?: BatchOptions): Promise<BatchResults<T>> {
    return rejecting(() => {
      const calls = checkOps(ops, true)
      const signal = batchSignal(options)
      this.#checkOpen(calls[0]?.syscall ?? 'read')
      return runBatch(this.#backend, calls, this.#start, signal) as Promise<any>
    })
  }

  /**
   * Runs `ops` on this file as one chain (see `Ring.link`), e.g. `[{ op: 'write', buffer,
   * position }, { op: 'fdatasync' }]`: a failed or short op cancels the rest (ECANCELED).
   */
  link<const T extends readonly FileBatchOp[]>(ops: T, options?: BatchOptions): Promise<BatchResults<T>> {
    return rejecting(() => {
      const calls = checkOps(ops, true)
      const signal = batchSignal(options)
      this.#checkOpen(calls[0]?.syscall ?? 'read')
      return runLink(this.#backend, calls, this.#start, signal) as Promise<any>
    })
  }

  readonly #start: Starter = (c, signal) => c.start(this.#backend, this.#use(c.syscall), this, signal)

  /** `fchmod` (no io_uring opcode: runs on node:fs). */
  chmod(mode: Mode): Promise<void> {
    return rejecting(() => {
      this.#checkOpen('fchmod')
      const m = parseFileMode(mode, 'mode') // node:fs would let 2**31 and -0 abort its binding
      const fd = this.#use('fchmod')
      return this.#backend.delegate('fchmod', () => callback<void>((cb) => nodeFs.fchmod(fd, m, cb)), this)
    })
  }

  /** `fchown` (no io_uring opcode: runs on node:fs). */
  chown(uid: number, gid: number): Promise<void> {
    return rejecting(() => {
      const fd = this.#use('fchown')
      return this.#backend.delegate('fchown', () => callback<void>((cb) => nodeFs.fchown(fd, uid, gid, cb)), this)
    })
  }

  /** `futimes`: times as seconds, Date or numeric string (no io_uring opcode: runs on node:fs). */
  utimes(atime: nodeFs.TimeLike, mtime: nodeFs.TimeLike): Promise<void> {
    return rejecting(() => {
      const fd = this.#use('futimes')
      return this.#backend.delegate('futimes', () => callback<void>((cb) => nodeFs.futimes(fd, atime, mtime, cb)), this)
    })
  }

  /**
   * A Readable of the file's bytes read through this handle's ring (`fs.ReadStream` options:
   * start, end, highWaterMark, encoding, autoClose, emitClose, signal).
   */
  createReadStream(options?: ReadStreamOptions | BufferEncoding): ReadStream {
    return new ReadStream(this, options)
  }

  /** A Writable whose chunks are written through this handle's ring (`fs.WriteStream` options). */
  createWriteStream(options?: WriteStreamOptions | BufferEncoding): WriteStream {
    return new WriteStream(this, options)
  }

  /** The file's lines (`readline` over `createReadStream(options)`, any line ending). */
  readLines(options?: ReadStreamOptions | BufferEncoding): Interface {
    return createInterface({ input: this.createReadStream(options), crlfDelay: Infinity })
  }

  /**
   * A `ReadableStream` of the file from the current position, read through the ring. As in the
   * running Node: a byte stream of Uint8Array chunks (Node 22+, or `type: 'bytes'`), else (Node 20)
   * a stream of ArrayBuffer chunks; with `autoClose` (Node 22+), the handle is closed at the end.
   */
  readableWebStream(options?: { type?: 'bytes'; autoClose?: boolean }): ReadableStream<Uint8Array> {
    if (this.#fd === -1) throw invalidState('The FileHandle is closed')
    if (this.#locked) throw invalidState('The FileHandle is locked')
    // Node 20 ignores options it cannot use; Node 22+ checks that they are an object.
    if (NODE_MAJOR >= 22 && options !== undefined) validateObject(options, 'options')
    this.#locked = true
    const bytes = NODE_MAJOR >= 22 || options?.type === 'bytes'
    const autoClose = NODE_MAJOR >= 22 && Boolean(options?.autoClose)
    const done = (): Promise<void> => {
      this.#locked = false
      return autoClose ? this.close() : Promise.resolve()
    }
    if (!bytes) {
      return new ReadableStream<ArrayBuffer>({
        pull: async (controller) => {
          const buf = Buffer.allocUnsafeSlow(65536)
          const bytesRead = await this._readFresh(buf, buf.length, null)
          if (bytesRead === 0) {
            await done()
            return controller.close()
          }
          controller.enqueue(buf.buffer.slice(0, bytesRead))
        },
        cancel: () => done(),
      }) as unknown as ReadableStream<Uint8Array>
    }
    return new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: 16384,
      pull: async (controller) => {
        const view = controller.byobRequest!.view!
        const { bytesRead } = await this.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 0, view.byteLength, null)
        if (bytesRead === 0) {
          await done()
          controller.close()
        }
        controller.byobRequest!.respond(bytesRead)
      },
      cancel: () => done(),
    })
  }

  #locked = false

  /** Flushes data and metadata to storage (`fsync`). */
  sync(): Promise<void> {
    return rejecting(() => this.#backend.fsync(this.#use('fsync'), false, this))
  }

  /** Flushes data to storage (`fdatasync`). */
  datasync(): Promise<void> {
    return rejecting(() => this.#backend.fsync(this.#use('fdatasync'), true, this))
  }

  /** Truncates (or extends with zeros) the file to `len` bytes (default 0; negative means 0). */
  async truncate(len: number = 0): Promise<void> {
    validateInteger(len, 'len')
    const fd = this.#use('ftruncate')
    return this.#backend.ftruncate(fd, Math.max(0, len), this)
  }

  /** Reads from the current position to the end of the file. */
  readFile(options?: { encoding?: null; signal?: AbortSignal } | null): Promise<Buffer>
  readFile(options: { encoding: BufferEncoding; signal?: AbortSignal } | BufferEncoding): Promise<string>
  readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer>
  async readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
    const o = getOptions(options, { encoding: null as Encoding, signal: undefined as AbortSignal | undefined })
    validateAbortSignal(o.signal, 'options.signal')
    this.#checkOpen('readFile')
    checkAborted(o.signal)
    return readAll(this, this.#backend, o.encoding ?? null, o.signal)
  }

  /** Writes `data` at the current position (a handle opened with 'a' appends). */
  async writeFile(data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    // As Node's fsCall: a closed handle first, then the options as writeFile reads them.
    this.#checkOpen('writeFile')
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, signal: undefined as AbortSignal | undefined, flush: false as boolean | null | undefined })
    validateBoolean(o.flush ?? false, 'options.flush')
    if (!isArrayBufferView(data) && typeof data !== 'string' && !isIterable(data)) {
      throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], data)
    }
    validateAbortSignal(o.signal, 'options.signal')
    checkAborted(o.signal)
    return writeAll(this, this.#backend, data, o.encoding, o.signal)
  }

  /** Same as `writeFile` on a handle (Node's alias). */
  appendFile(data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    return this.writeFile(data, options)
  }

  /** Waits for this handle's ops in flight, then closes the fd. Closing twice is harmless. */
  close(): Promise<void> {
    if (this.#fd === -1) return Promise.resolve()
    if (this.#closing !== undefined) return this.#closing
    const fd = this.#fd
    this.#closing = (async () => {
      try {
        if (this.#pending > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
        this.#drained = undefined
        // Forgotten before the close is issued: once closed, the number can be reused at once.
        this.#backend.disown?.(fd)
        try {
          await this.#backend.close(fd)
        } catch (e) {
          // The ring was closed first: the fd is still ours to close, through node:fs.
          if ((e as { code?: unknown }).code !== 'ERR_RING_CLOSED') {
            this.#backend.own?.(fd)
            throw e
          }
          await callback<void>((cb) => nodeFs.close(fd, cb))
        }
        this.#fd = -1
        unclosed.unregister(this)
      } catch (e) {
        this.#closing = undefined
        throw e
      }
      this.#closing = undefined
      this.emit('close')
    })()
    return this.#closing
  }

  /** `await using fh = await open(...)` closes the handle. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** @internal fd for an internal op of readFile/writeFile (counted as pending). */
  _use(syscall: string): number {
    return this.#use(syscall)
  }

  /**
   * @internal A read into `buffer`, which the library allocated and no user code has seen yet
   * (a stream chunk): the kernel writes into it in place, with no copy (see `Backend.read`).
   */
  _readFresh(buffer: Buffer, length: number, position: number | null): Promise<number> {
    return rejecting(() => this.#backend.read(this.#use('read'), buffer, 0, length, position ?? -1, Shape.Number, this, undefined, true))
  }
}

/** A node:fs callback call as a promise (argument errors it throws become rejections). */
function callback<T>(call: (cb: (err: NodeJS.ErrnoException | null, v?: any) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, v) => (err ? reject(err) : resolve(v))))
}

/** Node reads `options.bigint` without validating `options`; only `true` selects BigIntStats (its binding checks IsTrue). */
function statBigint(options: unknown): boolean {
  return (options as StatOptions | null | undefined)?.bigint === true
}

async function readAll(fh: FileHandle, backend: Backend, encoding: Encoding, signal: AbortSignal | undefined): Promise<string | Buffer> {
  const st = await backend.fstat(fh._use('fstat'), fh, signal)
  const size = (st.mode & S_IFMT) === S_IFREG ? st.size : 0
  // Into buffers readRest allocates and hands out only when done: direct reads (no copy).
  const read = (buf: Buffer, offset: number, length: number) => backend.read(fh._use('read'), buf, offset, length, -1, Shape.Number, fh, signal, true) as Promise<number>
  return decoded(await readRest(read, size, [], 0, signal), encoding)
}

/** As Node: a falsy encoding ('', 0, null) is a Buffer; 'buffer' passes the option check, then fails here with ERR_UNKNOWN_ENCODING. */
function decoded(data: Buffer, encoding: Encoding): string | Buffer {
  return encoding ? data.toString(encoding as BufferEncoding) : data
}

function fileTooLarge(size: number): NodeStyleError {
  return new NodeStyleError(RangeError as unknown as ErrorConstructor, 'ERR_FS_FILE_TOO_LARGE', `File size (${size}) is greater than 2 GiB`)
}

/**
 * readFile's read loop, after `total` bytes (in `chunks`) were read: with a known `size` (a
 * regular file) into one buffer up to that size, then on in chunks until a read returns 0, in
 * case the file grew.
 */
async function readRest(read: (buf: Buffer, offset: number, length: number) => Promise<number>, size: number, chunks: Buffer[], total: number, signal: AbortSignal | undefined): Promise<Buffer> {
  if (size > kIoMaxLength) throw fileTooLarge(size)
  let complete = true
  if (size > total) {
    // Unpooled, as Node's readFile: the kernel may write into these in place (direct reads),
    // so they must not share memory with Buffers user code holds.
    const buf = Buffer.allocUnsafeSlow(size - total)
    let got = 0
    while (got < buf.length) {
      checkAborted(signal)
      const n = await read(buf, got, Math.min(buf.length - got, kReadFileBufferLength))
      if (n === 0) break
      got += n
    }
    chunks.push(got === buf.length ? buf : buf.subarray(0, got))
    total += got
    complete = got === buf.length
  }
  while (complete) {
    checkAborted(signal)
    const buf = Buffer.allocUnsafeSlow(kReadFileUnknownBufferLength)
    const n = await read(buf, 0, buf.length)
    if (n === 0) break
    chunks.push(n === buf.length ? buf : buf.subarray(0, n))
    total += n
    if (total > kIoMaxLength) throw fileTooLarge(total)
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)
}

/** The rest of a chained readFile whose first read may not have reached the end. */
async function readOpened(f: OpenedRead): Promise<Buffer> {
  let data: Buffer
  try {
    data = await readRest((b, o, l) => f.read(b, o, l), f.size, [f.bytes], f.bytes.length, undefined)
  } catch (e) {
    await f.close().catch(() => {})
    throw e
  }
  await f.close()
  return data
}

async function writeBytes(fh: FileHandle, backend: Backend, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  let off = 0
  // Write at the current position until everything is written (short writes continue).
  do {
    checkAborted(signal)
    const len = Math.min(bytes.byteLength - off, kWriteFileMaxChunkSize)
    const n = (await backend.write(fh._use('write'), bytes, off, len, -1, Shape.Number, fh, signal)) as number
    off += n
  } while (off < bytes.byteLength)
}

/** The encoding writeFile converts strings with, as Node's `encoding || 'utf8'` ('buffer' then fails with ERR_UNKNOWN_ENCODING). */
function writeEncoding(encoding: Encoding | undefined): BufferEncoding {
  return (encoding || 'utf8') as BufferEncoding
}

/** Data writeFile takes chunk by chunk: an object that is iterable or async-iterable. */
function isIterable(data: unknown): data is Iterable<unknown> | AsyncIterable<unknown> {
  return data != null && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)
}

async function writeAll(fh: FileHandle, backend: Backend, data: unknown, encoding: BufferEncoding | 'buffer' | null | undefined, signal: AbortSignal | undefined): Promise<void> {
  const enc = writeEncoding(encoding)
  if (typeof data === 'string') data = Buffer.from(data, enc)
  if (isArrayBufferView(data)) {
    // As Node's writeFileHandle (a detached buffer throws its TypeError here).
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (bytes.byteLength > 0) await writeBytes(fh, backend, bytes, signal)
    else checkAborted(signal)
    return
  }
  if (isIterable(data)) {
    for await (const chunk of data as AsyncIterable<unknown>) {
      let bytes: Uint8Array
      if (typeof chunk === 'string') bytes = Buffer.from(chunk, enc)
      else if (isArrayBufferView(chunk)) bytes = toBytes(chunk)
      else throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], chunk)
      if (bytes.byteLength > 0) await writeBytes(fh, backend, bytes, signal)
    }
    return
  }
  throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView', 'Iterable', 'AsyncIterable'], data)
}

/**
 * Functions the kernel has no io_uring opcode for: they run on node:fs (libuv's thread pool),
 * with node:fs's own argument checks, results and errors, tracked as ops of the ring (a closed
 * ring rejects them; closing the ring waits for them).
 */
const DELEGATED = [
  'access', 'chown', 'copyFile', 'cp', 'lchmod', 'lchown', 'lutimes', 'mkdtemp', 'opendir',
  'readdir', 'readlink', 'realpath', 'rm', 'statfs', 'utimes', 'mkdtempDisposable',
] as const
/** Functions that return an async iterator rather than a promise: handed to node:fs as they are. */
const PASSED_THROUGH = ['watch', 'glob'] as const

/** Node 22+ `glob` (undefined where node:fs/promises has none). */
export type GlobFn = (pattern: string | readonly string[], options?: object) => AsyncIterableIterator<string | nodeFs.Dirent>
/** Node 24 `mkdtempDisposable` (undefined where node:fs/promises has none). */
export type MkdtempDisposableFn = (prefix: PathLike, options?: object | BufferEncoding) => Promise<{ path: string; remove(): Promise<void>; [Symbol.asyncDispose](): Promise<void> }>

/** `node:fs/promises` functions, bound to one backend (one ring). */
export class FsApi {
  readonly #backend: () => Backend
  /** `fs.constants` (O_RDONLY, S_IFMT, ...). */
  readonly constants = constants

  /** node:fs `access` (no io_uring opcode). */
  declare readonly access: typeof nodeFsP.access
  /** node:fs `chown` (no io_uring opcode). */
  declare readonly chown: typeof nodeFsP.chown
  /** node:fs `copyFile`: copy_file_range / reflink in one syscall beats a read/write loop. */
  declare readonly copyFile: typeof nodeFsP.copyFile
  /** node:fs `cp` (recursive copy; composed of calls with no opcode). */
  declare readonly cp: typeof nodeFsP.cp
  /** node:fs `lchmod` (not implemented on Linux, as in Node). */
  declare readonly lchmod: typeof nodeFsP.lchmod
  /** node:fs `lchown` (no io_uring opcode). */
  declare readonly lchown: typeof nodeFsP.lchown
  /** node:fs `lutimes` (no io_uring opcode). */
  declare readonly lutimes: typeof nodeFsP.lutimes
  /** node:fs `mkdtemp` (the random name comes from mkdtemp(3)). */
  declare readonly mkdtemp: typeof nodeFsP.mkdtemp
  /** node:fs `opendir` (no getdents opcode). */
  declare readonly opendir: typeof nodeFsP.opendir
  /** node:fs `readdir`, incl. `withFileTypes` and `recursive` (no getdents opcode). */
  declare readonly readdir: typeof nodeFsP.readdir
  /** node:fs `readlink` (no io_uring opcode). */
  declare readonly readlink: typeof nodeFsP.readlink
  /** node:fs `realpath` (no io_uring opcode). */
  declare readonly realpath: typeof nodeFsP.realpath
  /** node:fs `rm` (recursive removal walks directories, which needs getdents). */
  declare readonly rm: typeof nodeFsP.rm
  /** node:fs `statfs` (no io_uring opcode). */
  declare readonly statfs: typeof nodeFsP.statfs
  /** node:fs `utimes` (no io_uring opcode). */
  declare readonly utimes: typeof nodeFsP.utimes
  /** node:fs `watch` (inotify; an async iterator). */
  declare readonly watch: typeof nodeFsP.watch
  /** node:fs `glob` on Node 22+; undefined on Node 20, as in node:fs/promises. */
  declare readonly glob: GlobFn | undefined
  /** node:fs `mkdtempDisposable` on Node 24+; undefined before, as in node:fs/promises. */
  declare readonly mkdtempDisposable: MkdtempDisposableFn | undefined

  /** @internal */
  constructor(backend: () => Backend) {
    this.#backend = backend
    // Methods are used detached (`const { readFile } = ring.fs`), as node:fs/promises allows.
    for (const name of Object.getOwnPropertyNames(FsApi.prototype)) {
      const v = (FsApi.prototype as any)[name]
      if (typeof v === 'function' && name !== 'constructor') (this as any)[name] = v.bind(this)
    }
    const node = nodeFsP as Record<string, any>
    for (const name of DELEGATED) {
      const f = node[name]
      ;(this as any)[name] = f === undefined ? undefined : (...args: unknown[]) => this.#backend().delegate(name, () => f(...args))
    }
    for (const name of PASSED_THROUGH) (this as any)[name] = node[name]
  }

  /** node:fs `chmod` (no io_uring opcode); a mode its binding would abort on (2**31 and more, -0) is rejected first. */
  async chmod(path: PathLike, mode: Mode): Promise<void> {
    getValidatedPath(path)
    parseFileMode(mode, 'mode')
    return this.#backend().delegate('chmod', () => nodeFsP.chmod(path, mode))
  }

  /** Opens a file; `flags` default 'r', `mode` default 0o666. */
  async open(path: PathLike, flags?: OpenMode | null, mode?: Mode | null): Promise<FileHandle> {
    const p = getValidatedPath(path)
    const f = stringToFlags(flags, 'r')
    const m = parseFileMode(mode, 'mode', 0o666)
    return this.#open(p, f, m)
  }

  /** Opens with checked arguments; a `signal` that aborts cancels the open (see Backend). */
  async #open(path: string | Buffer, flags: number, mode: number, signal?: AbortSignal): Promise<FileHandle> {
    const backend = this.#backend()
    return new FileHandle(backend, await backend.open(path, flags, mode, signal))
  }

  /** Reads a whole file (path or FileHandle). */
  readFile(path: PathLike | FileHandle, options?: { encoding?: null; flag?: OpenMode; signal?: AbortSignal } | null): Promise<Buffer>
  readFile(path: PathLike | FileHandle, options: { encoding: BufferEncoding; flag?: OpenMode; signal?: AbortSignal } | BufferEncoding): Promise<string>
  readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer>
  async readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
    const o = getOptions(options, { flag: 'r' as OpenMode, encoding: null as Encoding, signal: undefined as AbortSignal | undefined })
    validateAbortSignal(o.signal, 'options.signal')
    if (path instanceof FileHandle) return path.readFile(o)
    const p = getValidatedPath(path)
    checkAborted(o.signal)
    // Node reads `options.flag || 'r'`: null, '', 0 and false mean 'r' (as 'w' and 'a' below).
    return decoded(await readPath(this.#backend(), p, stringToFlags(o.flag || 'r'), o.signal), o.encoding ?? null)
  }

  /** Writes a whole file (path or FileHandle); creates or truncates it (flag 'w'). */
  async writeFile(path: PathLike | FileHandle, data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, mode: 0o666 as Mode, flag: 'w' as OpenMode, signal: undefined as AbortSignal | undefined })
    return this.#writeFile(path, data, o)
  }

  /** Appends to a file (path or FileHandle), creating it (flag 'a'). */
  async appendFile(path: PathLike | FileHandle, data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, mode: 0o666 as Mode, flag: 'a' as OpenMode, signal: undefined as AbortSignal | undefined })
    return this.#writeFile(path, data, { ...o, flag: o.flag || 'a' })
  }

  async #writeFile(path: PathLike | FileHandle, data: WriteData, o: WriteFileOptions & { encoding?: Encoding }): Promise<void> {
    const flush = o.flush ?? false
    validateBoolean(flush, 'options.flush')
    validateAbortSignal(o.signal, 'options.signal')
    if (!isArrayBufferView(data) && typeof data !== 'string' && !isIterable(data)) {
      throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], data)
    }
    // As Node: a string is encoded before anything is opened (a bad encoding leaves the file alone).
    if (typeof data === 'string') data = Buffer.from(data, writeEncoding(o.encoding))
    if (path instanceof FileHandle) return path.writeFile(data, { encoding: o.encoding as BufferEncoding | null, signal: o.signal })
    const p = getValidatedPath(path)
    checkAborted(o.signal)
    const flags = stringToFlags(o.flag || 'w')
    const mode = parseFileMode(o.mode, 'mode', 0o666)
    return writePath(this.#backend(), p, flags, mode, data, o.encoding, flush, o.signal)
  }

  /** `stat` (follows symlinks). `{ bigint: true }` gives `BigIntStats` (computed by node:fs). */
  stat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>
  stat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>
  stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>
  async stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
    const p = getValidatedPath(path)
    if (statBigint(options)) return this.#backend().delegate('stat', () => nodeFsP.stat(p, { bigint: true }))
    return this.#backend().stat(p, true)
  }

  /** `lstat` (does not follow a final symlink). */
  lstat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>
  lstat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>
  lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>
  async lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
    const p = getValidatedPath(path)
    if (statBigint(options)) return this.#backend().delegate('lstat', () => nodeFsP.lstat(p, { bigint: true }))
    return this.#backend().stat(p, false)
  }

  /** Removes a file or symlink. */
  async unlink(path: PathLike): Promise<void> {
    return this.#backend().unlink(getValidatedPath(path))
  }

  /** Renames `oldPath` to `newPath`, replacing it if it exists. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    const a = getValidatedPath(oldPath, 'oldPath')
    const b = getValidatedPath(newPath, 'newPath')
    return this.#backend().rename(a, b)
  }

  /** Creates a symbolic link at `path` whose target is `target` (stored as given). */
  async symlink(target: PathLike, path: PathLike, type?: 'dir' | 'file' | 'junction' | null): Promise<void> {
    // `type` only matters on Windows; Node 24 checks it, Node 20 and 22 ignore it.
    if (NODE_MAJOR >= 24 && type != null && type !== 'dir' && type !== 'file' && type !== 'junction') {
      throw invalidArgValue('type', type, "must be one of: 'dir', 'file', 'junction', null, undefined")
    }
    const t = getValidatedPath(target, 'target')
    const p = getValidatedPath(path)
    // Node's stringToSymlinkFlags, after the paths: a string type must be one it knows.
    if (typeof type === 'string' && type !== 'dir' && type !== 'file' && type !== 'junction') {
      throw new NodeStyleError(Error as ErrorConstructor, 'ERR_FS_INVALID_SYMLINK_TYPE', `Symlink type must be one of "dir", "file", or "junction". Received "${type}"`)
    }
    return this.#backend().symlink(t, p)
  }

  /** Creates a hard link `newPath` to `existingPath`. */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    const a = getValidatedPath(existingPath, 'existingPath')
    const b = getValidatedPath(newPath, 'newPath')
    return this.#backend().link(a, b)
  }

  /** Truncates (or extends with zeros) the file at `path` to `len` bytes: open, ftruncate and close on the ring. */
  async truncate(path: PathLike, len: number = 0): Promise<void> {
    const fh = await this.open(path, 'r+')
    return closeAfter(fh, () => fh.truncate(len))
  }

  /** Removes an empty directory. (`recursive` is deprecated in Node and runs on node:fs.) */
  async rmdir(path: PathLike, options?: RmDirOptions): Promise<void> {
    const p = getValidatedPath(path)
    if (options !== undefined) {
      // Node's validateRmdirOptions (only undefined means the defaults).
      validateObject(options, 'options')
      const o = { retryDelay: 100, maxRetries: 0, recursive: false, ...options }
      validateBoolean(o.recursive, 'options.recursive')
      validateInt32(o.retryDelay, 'options.retryDelay', 0)
      validateUint32(o.maxRetries, 'options.maxRetries')
      if (o.recursive) return this.#backend().delegate('rmdir', () => nodeFsP.rmdir(p, options))
    }
    return this.#backend().rmdir(p)
  }

  /**
   * Creates a directory. With `recursive`, creates missing parents and resolves to the first
   * directory created (undefined when none was).
   */
  mkdir(path: PathLike, options: MakeDirectoryOptions & { recursive: true }): Promise<string | undefined>
  mkdir(path: PathLike, options?: Mode | (MakeDirectoryOptions & { recursive?: false }) | null): Promise<undefined>
  mkdir(path: PathLike, options?: Mode | MakeDirectoryOptions | null): Promise<string | undefined>
  async mkdir(path: PathLike, options?: Mode | MakeDirectoryOptions | null): Promise<string | undefined> {
    let recursive: unknown = false
    let mode: unknown = 0o777
    if (typeof options === 'number' || typeof options === 'string') mode = options
    else if (options) {
      // As Node's `{ recursive = false, mode = 0o777 } = options || {}` (falsy options: defaults).
      const o = options as MakeDirectoryOptions
      if (o.recursive !== undefined) recursive = o.recursive
      if (o.mode !== undefined) mode = o.mode
    }
    validateBoolean(recursive, 'options.recursive')
    const m = parseFileMode(mode, 'mode', 0o777)
    const p = getValidatedPath(path)
    const backend = this.#backend()
    if (!recursive) {
      await backend.mkdir(p, m)
      return undefined
    }
    return mkdirp(backend, typeof p === 'string' ? p : p.toString(), m)
  }
}

/** Runs `f`, then closes `fh` whatever happened; an error of `f` wins over one of close. */
/** readFile of a checked path: one linked submission where the ring can, else open → read → close. */
export async function readPath(backend: Backend, p: string | Buffer, flags: number, signal: AbortSignal | undefined): Promise<Buffer> {
  // The chained open has no mode: flags that can create a file go step by step, with 0o666 as Node.
  if (signal === undefined && (flags & CREATES) === 0) {
    // One linked submission where the ring can (open → read → read, no round trip through JS).
    const chained = backend.readFile?.(p, flags)
    if (chained !== undefined) {
      const r = await chained
      return Buffer.isBuffer(r) ? r : readOpened(r)
    }
  }
  const fh = new FileHandle(backend, await backend.open(p, flags, 0o666, signal))
  return closeAfter(fh, () => fh.readFile({ signal }))
}

/** writeFile of a checked path: one linked submission where the ring can, else open → write → close. */
export async function writePath(backend: Backend, p: string | Buffer, flags: number, mode: number, data: WriteData, encoding: Encoding | undefined, flush: boolean, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined && !flush && (typeof data === 'string' || isArrayBufferView(data))) {
    // One linked submission where the ring can (open → write → close).
    const bytes = typeof data === 'string' ? Buffer.from(data, writeEncoding(encoding)) : toBytes(data)
    const chained = backend.writeFile?.(p, flags, mode, bytes)
    if (chained !== undefined) return chained
  }
  const fh = new FileHandle(backend, await backend.open(p, flags, mode, signal))
  return closeAfter(fh, async () => {
    await fh.writeFile(data, { encoding: encoding as BufferEncoding | null, signal })
    if (flush) await fh.sync()
  })
}

async function closeAfter<R>(fh: FileHandle, f: () => Promise<R>): Promise<R> {
  let result: R
  try {
    result = await f()
  } catch (e) {
    await fh.close().catch(() => {})
    throw e
  }
  await fh.close()
  return result
}

/** Node's MKDirpAsync: returns the first directory created, or undefined. */
async function mkdirp(backend: Backend, path: string, mode: number): Promise<string | undefined> {
  try {
    await backend.mkdir(path, mode)
    return path
  } catch (e) {
    const err = e as SystemError
    if (err.errno === UV.EEXIST) {
      const st = await backend.stat(path, true).catch(() => undefined)
      if (st?.isDirectory()) return undefined
      throw err
    }
    if (err.errno !== UV.ENOENT) throw err
    const parent = dirname(path)
    if (parent === path) throw err
    let first: string | undefined
    try {
      first = await mkdirp(backend, parent, mode)
    } catch (pe) {
      // A parent that exists but is not a directory: ENOTDIR for the path asked for, as Node.
      if ((pe as SystemError).errno === UV.EEXIST) throw systemError(UV.ENOTDIR, 'mkdir', path)
      throw pe
    }
    try {
      await backend.mkdir(path, mode)
    } catch (e2) {
      if ((e2 as SystemError).errno !== UV.EEXIST) throw e2
      const st = await backend.stat(path, true).catch(() => undefined)
      if (!st?.isDirectory()) throw e2
    }
    return first ?? path
  }
}

