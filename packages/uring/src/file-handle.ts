// FileHandle: the node:fs/promises FileHandle over a Backend. Its ops count as pending so that
// close() waits for them; one collected while open has its fd closed, as Node does.
import { EventEmitter } from 'node:events'
import * as nodeFs from 'node:fs'
import type { BigIntStats, Stats } from 'node:fs'
import { createInterface, type Interface } from 'node:readline'
import { unclosed } from './handle-gc'
import type { ReadableStream } from 'node:stream/web'
import { webStream } from './web-stream'
import { ReadStream, type ReadStreamOptions, WriteStream, type WriteStreamOptions } from './fs-streams'
import { type Backend, Shape } from './backend'
import { byteLength } from './owned'
import { ROWS } from './ops'
import { type BatchOptions, type BatchResults, batchSignal, checkOps, type FileBatchOp, runBatch, runLink, type Starter } from './batch'
import { invalidArgType, invalidArgValue, invalidState, NodeStyleError, rejecting, withCaller } from './errors'
import {
  checkAborted,
  getOptions,
  ioOptions,
  lenientPosition,
  NODE_MAJOR,
  parseFileMode,
  validateBoolean,
  validateBuffer,
  validateBufferArray,
  validateInteger,
  validateNotAborting,
  validateObject,
  validateOffsetLengthRead,
  validateOffsetLengthWrite,
  validatePosition,
} from './validate'
import type {
  Encoding,
  NonSharedBuffer,
  FileReadOptions,
  ReadableWebStreamOptions,
  WebStreamChunk,
  FileReadResult,
  FileWriteResult,
  Mode,
  ReadFileOptions,
  ReadVResult,
  StatOptions,
  WriteData,
  WriteFileOptions,
  WriteVResult,
} from './fs-types'
import { intoBuffer, isArrayBufferView, isIterable, readAll, refuseEncoding, undecodable, writeAll, writeEncoding } from './whole-file'

/** Most buffers one preadv/pwritev takes (Linux UIO_MAXIOV). */
const IOV_MAX = 1024

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

/**
 * A file opened on a ring: the `node:fs/promises` FileHandle, whose ops run on that ring.
 * `close()` waits for the handle's ops in flight, then closes the fd; later ops reject with EBADF.
 */
export class FileHandle extends EventEmitter {
  #fd: number
  #backend: Backend
  /** Ops of this handle not yet completed. */
  #pending = 0
  #closing: Promise<void> | undefined
  #drained: (() => void) | undefined

  /** @internal */
  constructor(backend: Backend, fd: number) {
    super()
    // Under uring/register, super() is Node's FileHandle constructor, which gives the handle its
    // own `close` (an arrow-function field): uring's is put in its place.
    if (Object.hasOwn(this, 'close')) this.close = FileHandle.prototype.close
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

  /**
   * Throws Node's ERR_INTERNAL_ASSERTION "handle must be an instance of FileHandle" when a method
   * is called on another object (`fh.stat.call({})`), as Node's fsCall does, instead of the
   * TypeError a private field access would give.
   */
  static #brand(fh: unknown): void {
    if (typeof fh !== 'object' || fh === null || !(#fd in fh)) throw notAHandle()
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
      typeof offset === 'number' &&
      typeof length === 'number' &&
      typeof position === 'number' &&
      isArrayBufferView(bufferOrOptions) &&
      length > 0 &&
      (offset | 0) === offset &&
      (length | 0) === length &&
      offset >= 0 &&
      offset + length <= byteLength(bufferOrOptions) &&
      Number.isSafeInteger(position) &&
      position >= -1 &&
      #fd in this &&
      this.#fd !== -1 &&
      this.#closing === undefined
    ) {
      this.#pending++
      return this.#backend.read(this.#fd, bufferOrOptions, offset, length, position, Shape.Read, this)
    }
    return rejecting(() => (FileHandle.#brand(this), this.#readSlow(bufferOrOptions, offset, length, position)))
  }

  #readSlow(bufferOrOptions: unknown, offset: unknown, length: unknown, position: unknown): Promise<FileReadResult<any>> {
    this.#checkOpen('read') // as Node's fsCall: before any argument
    let buffer = bufferOrOptions as NodeJS.ArrayBufferView
    if (!isArrayBufferView(buffer)) {
      if (bufferOrOptions !== undefined) validateObject(bufferOrOptions, 'options', true)
      // As Node destructures it, only an undefined buffer is the default one (null is an error).
      const o = (bufferOrOptions ?? {}) as FileReadOptions<any>
      buffer = o.buffer === undefined ? Buffer.alloc(16384) : o.buffer
      // Node's default `length = buffer.byteLength - offset` reads it first: a null buffer throws there.
      if (o.length === undefined) void (buffer as NodeJS.ArrayBufferView).byteLength
      validateBuffer(buffer)
      ;[offset, length, position] = ioOptions(o, buffer.byteLength)
    }
    if (offset !== null && typeof offset === 'object') [offset, length, position] = ioOptions(offset, buffer.byteLength)
    if (offset == null) offset = 0
    else validateInteger(offset, 'offset', 0)
    if (NODE_MAJOR >= 24) return this.#read24(buffer, offset as number, length, position)
    length ??= buffer.byteLength - (offset as number)
    // `bytesRead: length`, as Node 20 and 22: -0 for a length of -0.
    if (length === 0) return Promise.resolve({ __proto__: null, bytesRead: length, buffer } as any)
    if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written')
    // Node's comparisons first, with its coercions ('777' is out of range, a Symbol throws
    // "Cannot convert a Symbol value to a number"), then the integer check where Node would abort.
    validateOffsetLengthRead(offset as number, length as number, buffer.byteLength)
    // Node 22 checks the position next, with the length as given (a bigint position converts it:
    // BigInt({}) is a SyntaxError); Node 20 does not check it at all.
    const pos = readPosition(position, length as number)
    validateInteger(length, 'length', 0)
    // Past int32 (a buffer over 2 GiB), Node's binding aborts: rejected instead.
    validateNotAborting(length, 'length', 0)
    const fd = this.#use('read')
    return this.#backend.read(fd, buffer, offset as number, length, pos, Shape.Read, this)
  }

  /**
   * The rest of Node 24's checks, in its order: the length coerced (`length |= 0`), the position,
   * then a length of 0 resolves before the empty-buffer and range checks.
   */
  #read24(buffer: NodeJS.ArrayBufferView, offset: number, length: unknown, position: unknown): Promise<FileReadResult<any>> {
    const len = ((length ?? buffer.byteLength - offset) as number) | 0
    const pos = position == null ? -1 : validatePosition(position, 'position', len)
    if (len === 0) return Promise.resolve({ __proto__: null, bytesRead: 0, buffer } as any)
    if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written')
    validateOffsetLengthRead(offset, len, buffer.byteLength)
    return this.#backend.read(this.#use('read'), buffer, offset, len, pos, Shape.Read, this)
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
    return rejecting(() => (FileHandle.#brand(this), this.#write(buffer, offsetOrOptions, length, position)))
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
      FileHandle.#brand(this)
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
      FileHandle.#brand(this)
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
    FileHandle.#brand(this)
    this.#checkOpen('fstat') // a closed handle's EBADF comes before reading options, as in Node's fsCall
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
      FileHandle.#brand(this)
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
      FileHandle.#brand(this)
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
      FileHandle.#brand(this)
      this.#checkOpen('fchmod')
      const m = parseFileMode(mode, 'mode') // node:fs would let 2**31 and -0 abort its binding
      const fd = this.#use('fchmod')
      return this.#backend.delegate('fchmod', () => callback<void>((cb) => nodeFs.fchmod(fd, m, cb)), this)
    })
  }

  /** `fchown` (no io_uring opcode: runs on node:fs). */
  chown(uid: number, gid: number): Promise<void> {
    return rejecting(() => {
      FileHandle.#brand(this)
      const fd = this.#use('fchown')
      return this.#backend.delegate('fchown', () => callback<void>((cb) => nodeFs.fchown(fd, uid, gid, cb)), this)
    })
  }

  /** `futimes`: times as seconds, Date or numeric string (no io_uring opcode: runs on node:fs). */
  utimes(atime: nodeFs.TimeLike, mtime: nodeFs.TimeLike): Promise<void> {
    return rejecting(() => {
      FileHandle.#brand(this)
      const fd = this.#use('futimes')
      return this.#backend.delegate('futimes', () => callback<void>((cb) => nodeFs.futimes(fd, atime, mtime, cb)), this)
    })
  }

  /**
   * A Readable of the file's bytes read through this handle's ring (`fs.ReadStream` options:
   * start, end, highWaterMark, encoding, autoClose, emitClose, signal).
   */
  createReadStream(options?: ReadStreamOptions | BufferEncoding): ReadStream {
    FileHandle.#brand(this)
    return new ReadStream(this, options)
  }

  /** A Writable whose chunks are written through this handle's ring (`fs.WriteStream` options). */
  createWriteStream(options?: WriteStreamOptions | BufferEncoding): WriteStream {
    FileHandle.#brand(this)
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
  readableWebStream(options: ReadableWebStreamOptions & { type: 'bytes' }): ReadableStream<Uint8Array>
  readableWebStream(options?: ReadableWebStreamOptions): ReadableStream<WebStreamChunk>
  readableWebStream(options?: ReadableWebStreamOptions): ReadableStream<Uint8Array | ArrayBuffer> {
    FileHandle.#brand(this)
    if (this.#fd === -1) throw invalidState('The FileHandle is closed')
    if (this.#closing !== undefined) throw invalidState('The FileHandle is closing')
    if (this.#locked) throw invalidState('The FileHandle is locked')
    this.#locked = true
    return webStream(this, options)
  }

  #locked = false

  /** Flushes data and metadata to storage (`fsync`). */
  sync(): Promise<void> {
    return rejecting(() => (FileHandle.#brand(this), this.#backend.call(ROWS.fsync, [this.#use('fsync')], this)))
  }

  /** Flushes data to storage (`fdatasync`). */
  datasync(): Promise<void> {
    return rejecting(() => (FileHandle.#brand(this), this.#backend.call(ROWS.fdatasync, [this.#use('fdatasync')], this)))
  }

  /** Truncates (or extends with zeros) the file to `len` bytes (default 0; negative means 0). */
  async truncate(len: number = 0): Promise<void> {
    FileHandle.#brand(this)
    this.#checkOpen('ftruncate') // as Node's fsCall: a closed handle before the argument
    validateInteger(len, 'len')
    const fd = this.#use('ftruncate')
    return this.#backend.call(ROWS.ftruncate, [fd, Math.max(0, len)], this)
  }

  /** Reads from the current position to the end of the file. */
  readFile(options?: { encoding?: null; signal?: AbortSignal } | null): Promise<NonSharedBuffer>
  readFile(options: { encoding: BufferEncoding; signal?: AbortSignal } | BufferEncoding): Promise<string>
  readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | NonSharedBuffer>
  async readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | NonSharedBuffer> {
    FileHandle.#brand(this)
    // As Node's fsCall: a closed handle first, then the options.
    this.#checkOpen('readFile')
    const o = getOptions(options, { encoding: null as Encoding, signal: undefined as AbortSignal | undefined })
    const into = intoBuffer(options)
    if (undecodable(o.encoding)) refuseEncoding(o.encoding) // before the signal, as Node
    checkAborted(o.signal)
    return readAll(this, this.#backend, o.encoding ?? null, o.signal, into)
  }

  /** Writes `data` at the current position (a handle opened with 'a' appends). */
  async writeFile(data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    FileHandle.#brand(this)
    // As Node's fsCall: a closed handle first, then the options as writeFile reads them.
    this.#checkOpen('writeFile')
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, signal: undefined as AbortSignal | undefined, flush: false as boolean | null | undefined })
    validateBoolean(o.flush ?? false, 'options.flush')
    if (!isArrayBufferView(data) && typeof data !== 'string' && !isIterable(data)) {
      throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], data)
    }
    // As Node: a string is encoded (getOptions checked the signal) before an aborted signal is
    // looked at ('buffer': ERR_UNKNOWN_ENCODING).
    if (typeof data === 'string') data = Buffer.from(data, writeEncoding(o.encoding))
    checkAborted(o.signal)
    return writeAll(this, this.#backend, data, o.encoding, o.signal)
  }

  /** Same as `writeFile` on a handle (Node's alias). */
  appendFile(data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    return this.writeFile(data, options)
  }

  /**
   * Waits for this handle's ops in flight, then closes the fd. Emits `'close'` at once, as Node's
   * FileHandle does. Closing twice is harmless.
   */
  close(): Promise<void> {
    if (!(#fd in this)) return Promise.reject(notAHandle())
    if (this.#fd === -1) return Promise.resolve()
    if (this.#closing !== undefined) return this.#closing
    const fd = this.#fd
    this.#closing = (async () => {
      try {
        if (this.#pending > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
        this.#drained = undefined
        // (The backend forgets the fd as owned as it issues the close.)
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
    })()
    // At once, as Node's FileHandle does: a node:fs stream over this handle (uring/register)
    // closes on it and drops its reference, which the close above waits for.
    this.emit('close')
    return this.#closing
  }

  /**
   * @internal Node's `kRef` (what node:fs streams over a FileHandle call, under uring/register):
   * the handle stays open, and `close()` waits, until the matching `_unref`.
   */
  _ref(): void {
    this.#pending++
  }

  /** @internal Node's `kUnref`: ends one `_ref`. */
  _unref(): void {
    this.release()
  }

  /**
   * @internal Node's `kCloseSync` (Node 24's internals close a handle so): closes the fd now; Node's
   * "The FileHandle is closing" while an asynchronous close is under way.
   */
  _closeSync(): void {
    if (this.#fd === -1) return
    if (this.#closing !== undefined) throw invalidState('The FileHandle is closing')
    const fd = this.#fd
    this.#fd = -1
    unclosed.unregister(this)
    this.#backend.closeSync(fd)
    this.emit('close')
  }

  /**
   * @internal The fd given away (a worker transfer under uring/register): Node's DataCloneError
   * while the handle is closed, closing, locked by a stream or has ops in flight; else `onto` is
   * made a descriptor of this handle's file, and the handle is closed without a 'close' event.
   */
  _giveAway(check: boolean, onto?: (fd: number) => void): void {
    if (this.#fd === -1) throw new DOMException('Cannot transfer object of unsupported type.', 'DataCloneError')
    if (this.#closing !== undefined || this.#pending > 0 || this.#locked) throw new DOMException('Cannot transfer FileHandle while in use', 'DataCloneError')
    if (check) return
    const fd = this.#fd
    onto!(fd)
    this.#fd = -1
    unclosed.unregister(this)
    this.#backend.closeSync(fd)
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

// Off the hot path (not read/write), rejections carry the caller's frames, as Node's (withCaller).
for (const name of ['readv', 'writev', 'stat', 'chmod', 'chown', 'utimes', 'sync', 'datasync', 'truncate', 'readFile', 'writeFile', 'appendFile', 'close'] as const) {
  const f = FileHandle.prototype[name] as (...a: unknown[]) => Promise<unknown>
  Object.defineProperty(FileHandle.prototype, name, {
    value: {
      [name](this: FileHandle, ...a: unknown[]) {
        return withCaller(f.apply(this, a))
      },
    }[name],
    writable: true,
    configurable: true,
  })
}

/** Node's internal assertion for a FileHandle method called on another object. */
function notAHandle(): NodeStyleError {
  return new NodeStyleError(Error, 'ERR_INTERNAL_ASSERTION', 'handle must be an instance of FileHandle\nThis is caused by calling a uring FileHandle method on another object.')
}

/** A node:fs callback call as a promise (argument errors it throws become rejections). */
export function callback<T>(call: (cb: (err: NodeJS.ErrnoException | null, v?: any) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, v) => (err ? reject(err) : resolve(v))))
}

/** Node reads `options.bigint` without validating `options`; only `true` selects BigIntStats (its binding checks IsTrue). */
export function statBigint(options: unknown): boolean {
  // Node's `options = { bigint: false }` default covers undefined only: null throws its TypeError.
  return options !== undefined && (options as StatOptions).bigint === true
}
