// `FileHandle.createReadStream` / `createWriteStream`: real node:stream Readable and Writable
// subclasses, shaped like fs.ReadStream / fs.WriteStream, whose I/O goes through the handle's
// ring (its `read`/`write`/`writev`/`sync`/`close`), so both backends share them.
import { addAbortSignal, finished, Readable, Writable } from 'node:stream'
import { outOfRange } from './errors'
import { validateAbortSignal, validateBoolean, validateInteger, validateObject } from './validate'

/** What a stream uses of its FileHandle (FileHandle has all of it; this module does not import it,
 * since FileHandle makes the streams). */
export interface StreamHandle {
  readonly fd: number
  /** Holds the handle open (`close()` waits; no worker transfer) until `_unref`. */
  _ref(): void
  _unref(): void
  once(event: 'close', listener: () => void): unknown
  off(event: 'close', listener: () => void): unknown
  close(): Promise<void>
  sync(): Promise<void>
  /** A read into a Buffer the stream just allocated (a direct read: see FileHandle._readFresh). */
  _readFresh(buffer: Buffer, length: number, position: number | null): Promise<number>
  write(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>
  writev(buffers: Buffer[], position: number | null): Promise<{ bytesWritten: number }>
}

/** Options of `FileHandle.createReadStream` (those of `fs.createReadStream` that apply to a handle). */
export interface ReadStreamOptions {
  encoding?: BufferEncoding | null
  /** Close the handle when the stream ends or fails (default true). */
  autoClose?: boolean
  emitClose?: boolean
  /** First byte to read (default: the handle's current position). */
  start?: number
  /** Last byte to read, inclusive (default Infinity). */
  end?: number
  /** Bytes per read (default 64 KiB). */
  highWaterMark?: number
  signal?: AbortSignal
}

/** Options of `FileHandle.createWriteStream`. */
export interface WriteStreamOptions {
  encoding?: BufferEncoding | null
  autoClose?: boolean
  emitClose?: boolean
  /** Offset of the first write (default: the handle's current position). */
  start?: number
  highWaterMark?: number
  /** `fsync` before the handle is closed (default false). */
  flush?: boolean
  signal?: AbortSignal
}

/** The options object (a string is the encoding), and the parts both streams hand to node:stream. */
function streamOptions<T extends ReadStreamOptions | WriteStreamOptions>(
  options: unknown,
): { o: T; autoClose: boolean; signal: AbortSignal | undefined; base: { emitClose: boolean; autoDestroy: boolean } } {
  let o = {} as T
  if (typeof options === 'string') o = { encoding: options } as T
  else if (options !== undefined && options !== null) {
    validateObject(options, 'options')
    o = options as T
  }
  // As Node's streams read them: a signal that is not undefined (null too) must be an AbortSignal;
  // only `autoClose: false` keeps the handle open (null or 0 is Readable's `autoDestroy !== false`).
  if (o.signal !== undefined) validateAbortSignal(o.signal, 'options.signal')
  const autoClose = o.autoClose !== false
  // The signal is attached once the subclass is built (`addAbortSignal`): given to the Readable or
  // Writable constructor, an aborted one destroys the stream inside `super()`, before its fields exist.
  return { o, autoClose, signal: o.signal ?? undefined, base: { emitClose: o.emitClose ?? true, autoDestroy: autoClose } }
}

/** A stream's `_destroy`: closes the handle when `autoClose`; the stream's own error wins over close's. */
function closeIf(autoClose: boolean, fh: StreamHandle, err: Error | null, cb: (error?: Error | null) => void): void {
  if (!autoClose) return cb(err)
  fh.close().then(
    () => cb(err),
    (e) => cb(err ?? e),
  )
}

/**
 * As Node's streams over a FileHandle: the stream holds the handle from its construction to its
 * destruction (the handle's `close()` waits for it, and it cannot go to a worker meanwhile), and
 * the handle's 'close' destroys the stream (Node's WriteStream ends instead, writing what it has
 * queued; here the handle refuses ops once closing, so the queue is dropped, without an error).
 * Returns the release, run once by `_destroy`.
 */
function hold(stream: Readable | Writable, fh: StreamHandle): () => void {
  fh._ref()
  const onClose = (): void => void stream.destroy()
  fh.once('close', onClose)
  let held = true
  return () => {
    if (!held) return
    held = false
    fh.off('close', onClose)
    fh._unref()
  }
}

/** A chunk read ahead: the buffer and the bytes in it, or null at end of range/file. */
type Chunk = Buffer | null

/**
 * `fs.ReadStream` over a FileHandle. Each read asks the ring for `highWaterMark` bytes; as soon as
 * one completes, the next is started (one read ahead of the consumer), and the Readable's own
 * buffer, bounded by `highWaterMark`, gives backpressure.
 */
export class ReadStream extends Readable {
  /** Bytes pushed so far. */
  bytesRead = 0
  /** Always false: the handle is open already. */
  readonly pending = false
  /** `undefined` at run time, as on Node's streams over a FileHandle; typed as @types/node types it. */
  readonly path: string | Buffer = undefined as unknown as string | Buffer
  readonly fd: number
  readonly start: number | undefined
  readonly end: number
  #fh: StreamHandle
  /** Offset of the next read (counted from `start`, or from the first read when there is none). */
  #next: number
  #ahead: Promise<Chunk> | undefined
  #autoClose: boolean
  #release: () => void

  /** @internal */
  constructor(fh: StreamHandle, options?: ReadStreamOptions | BufferEncoding) {
    const { o, autoClose, signal, base } = streamOptions<ReadStreamOptions>(options)
    // Only an undefined highWaterMark is 64 KiB, as fs.ReadStream's: null is the Readable default.
    super({ ...base, highWaterMark: o.highWaterMark === undefined ? 64 * 1024 : o.highWaterMark, encoding: o.encoding ?? undefined })
    this.#fh = fh
    this.fd = fh.fd
    if (o.start !== undefined) validateInteger(o.start, 'start', 0)
    const end = o.end === undefined ? Infinity : o.end
    if (end !== Infinity) validateInteger(end, 'end', 0)
    if (o.start !== undefined && o.start > end) throw outOfRange('start', `<= "end" (here: ${end})`, o.start)
    this.start = o.start
    this.end = end
    this.#next = o.start ?? 0
    this.#autoClose = autoClose
    this.#release = hold(this, fh)
    if (signal !== undefined) addAbortSignal(signal, this)
  }

  /** Starts the read of the next chunk: positioned when `start` was given, else at the current position. */
  #readChunk(): Promise<Chunk> {
    const size = Math.min(this.readableHighWaterMark, this.end - this.#next + 1)
    if (size <= 0) return Promise.resolve(null)
    const buf = Buffer.allocUnsafeSlow(size)
    const pos = this.start === undefined ? null : this.#next
    return this.#fh._readFresh(buf, size, pos).then((bytesRead) => {
      if (bytesRead === 0) return null
      this.#next += bytesRead
      return bytesRead === size ? buf : buf.subarray(0, bytesRead)
    })
  }

  override _read(): void {
    const chunk = this.#ahead ?? this.#readChunk()
    this.#ahead = undefined
    chunk.then(
      (buf) => {
        if (this.destroyed) return
        if (buf === null) {
          this.push(null)
          return
        }
        this.bytesRead += buf.length
        // Read ahead while the consumer handles this chunk.
        if (this.end - this.#next + 1 > 0) this.#ahead = this.#readChunk()
        this.push(buf)
      },
      (err) => this.destroy(err),
    )
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // A read still in flight completes first (the handle waits for it before closing).
    const ahead = this.#ahead
    this.#ahead = undefined
    ahead?.catch(() => {})
    this.#release()
    closeIf(this.#autoClose, this.#fh, err, cb)
  }

  /** Destroys the stream (closing the handle when `autoClose`); `cb` runs once it is finished. */
  close(cb?: (err?: NodeJS.ErrnoException | null) => void): void {
    if (typeof cb === 'function') finished(this, cb)
    this.destroy()
  }
}

/**
 * `fs.WriteStream` over a FileHandle: each chunk is written completely (short writes continue)
 * before the next; corked or queued chunks go out as one `writev`.
 */
export class WriteStream extends Writable {
  /** Bytes written so far. */
  bytesWritten = 0
  readonly pending = false
  /** `undefined` at run time, as on Node's streams over a FileHandle; typed as @types/node types it. */
  readonly path: string | Buffer = undefined as unknown as string | Buffer
  readonly fd: number
  readonly start: number | undefined
  #fh: StreamHandle
  #pos: number | undefined
  #flush: boolean
  #autoClose: boolean
  #release: () => void

  /** @internal */
  constructor(fh: StreamHandle, options?: WriteStreamOptions | BufferEncoding) {
    const { o, autoClose, signal, base } = streamOptions<WriteStreamOptions>(options)
    // highWaterMark as fs.WriteStream: the Writable default unless given; a falsy encoding is utf8.
    super({ ...base, highWaterMark: o.highWaterMark, decodeStrings: true, defaultEncoding: o.encoding || 'utf8' })
    if (o.start !== undefined) validateInteger(o.start, 'start', 0)
    if (o.flush != null) validateBoolean(o.flush, 'options.flush')
    this.#fh = fh
    this.fd = fh.fd
    this.start = o.start
    this.#pos = o.start
    this.#flush = o.flush ?? false
    this.#autoClose = autoClose
    this.#release = hold(this, fh)
    if (signal !== undefined) addAbortSignal(signal, this)
  }

  async #writeAll(buf: Buffer): Promise<void> {
    let off = 0
    while (off < buf.length) {
      const { bytesWritten } = await this.#fh.write(buf, off, buf.length - off, this.#pos ?? null)
      off += bytesWritten
      this.bytesWritten += bytesWritten
      if (this.#pos !== undefined) this.#pos += bytesWritten
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.#writeAll(chunk).then(() => cb(), cb)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk)
    const total = buffers.reduce((n, b) => n + b.length, 0)
    this.#fh.writev(buffers, this.#pos ?? null).then(({ bytesWritten }) => {
      this.bytesWritten += bytesWritten
      if (this.#pos !== undefined) this.#pos += bytesWritten
      if (bytesWritten === total) return cb()
      // A short writev: the rest goes out as one buffer.
      this.#writeAll(Buffer.concat(buffers).subarray(bytesWritten)).then(() => cb(), cb)
    }, cb)
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (!this.#flush) return cb()
    this.#fh.sync().then(() => cb(), cb)
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#release()
    closeIf(this.#autoClose, this.#fh, err, cb)
  }

  /** Ends the stream, then closes it (and the handle when `autoClose`); `cb` runs on 'close'. */
  close(cb?: (err?: NodeJS.ErrnoException | null) => void): void {
    if (cb) {
      if (this.closed) {
        process.nextTick(cb)
        return
      }
      this.on('close', cb)
    }
    if (!this.#autoClose) this.on('finish', () => this.destroy())
    this.end()
  }

  /** Node's alias of `end()`. */
  destroySoon(): this {
    return this.end()
  }
}
