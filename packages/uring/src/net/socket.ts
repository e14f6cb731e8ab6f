// Socket: a connected socket, written once over a transport's Conn.
import { Duplex } from 'node:stream'
import { invalidArgType, RingError } from '../errors'
import { validateInteger } from '../validate'
import { type AddressInfo, type Conn, netError } from './conn'

/** Bytes a socket keeps received but unread before it stops receiving (backpressure). */
const READ_HIGH_WATER = 1 << 20

/**
 * A connected socket. Read with `read()` (the next chunk, or null at the end of the stream) or
 * `for await`; write with `write()`, which resolves once the kernel has taken every byte.
 */
export class Socket implements AsyncIterable<Buffer> {
  #conn: Conn
  #chunks: Buffer[] = []
  #queued = 0
  #ended = false
  #error: Error | undefined
  /** A reader waiting for data: read() (`iter` false) or the async iterator's next() (`iter` true). */
  #waiting: { resolve: (v: Buffer | null | IteratorResult<Buffer, undefined>) => void; reject: (e: Error) => void; iter: boolean } | undefined
  #paused = false
  #closed: Promise<void> | undefined

  /** @internal */
  constructor(conn: Conn) {
    this.#conn = conn
    conn.start({
      data: (chunk) => {
        if (this.#waiting !== undefined) {
          const w = this.#waiting
          this.#waiting = undefined
          w.resolve(w.iter ? { done: false, value: chunk } : chunk)
          return
        }
        this.#chunks.push(chunk)
        this.#queued += chunk.length
        if (this.#queued >= READ_HIGH_WATER && !this.#paused) {
          this.#paused = true
          conn.pause()
        }
      },
      end: () => {
        this.#ended = true
        this.#settleWaiting()
      },
      error: (e) => {
        this.#error ??= e
        this.#settleWaiting()
      },
    })
  }

  #settleWaiting(): void {
    const w = this.#waiting
    if (w === undefined) return
    this.#waiting = undefined
    if (this.#error !== undefined) w.reject(this.#error)
    else w.resolve(w.iter ? { done: true, value: undefined } : null)
  }

  /** Takes the first chunk received (there is one), resuming receiving below the low mark. */
  #shift(): Buffer {
    const chunk = this.#chunks.shift()!
    this.#queued -= chunk.length
    if (this.#paused && this.#queued < READ_HIGH_WATER / 2) {
      this.#paused = false
      this.#conn.resume()
    }
    return chunk
  }

  /** The next bytes received, or null once the peer has ended the stream. */
  read(): Promise<Buffer | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#shift())
    return this.#next(false) as Promise<Buffer | null>
  }

  /** No chunk is here: the end, the error, or a promise that the next chunk settles. */
  #next(iter: boolean): Promise<Buffer | null | IteratorResult<Buffer, undefined>> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#ended || this.#closed !== undefined) return Promise.resolve(iter ? { done: true, value: undefined } : null)
    if (this.#waiting !== undefined) return Promise.reject(new RingError('ERR_READ_PENDING', 'a read() is already waiting on this socket'))
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject, iter }))
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // A plain iterator object: cheaper per chunk than an async generator.
    return {
      // One promise per chunk, settled with the iterator result itself.
      next: () => {
        if (this.#chunks.length > 0) return Promise.resolve({ done: false, value: this.#shift() })
        return this.#next(true) as Promise<IteratorResult<Buffer, undefined>>
      },
      return: async () => {
        await this.close()
        return { done: true, value: undefined }
      },
    }
  }

  /** Writes `data` (a string as UTF-8, or `encoding`); resolves once the kernel has taken all of it. Writes run in order. */
  write(data: Uint8Array | string, encoding?: BufferEncoding): Promise<void> {
    let bytes: Uint8Array
    if (typeof data === 'string') bytes = Buffer.from(data, encoding ?? 'utf8')
    else if (data instanceof Uint8Array) bytes = data
    else return Promise.reject(invalidArgType('data', ['string', 'Buffer', 'Uint8Array'], data))
    if (this.#closed !== undefined) return Promise.reject(netError(-32, 'write'))
    if (bytes.byteLength === 0) return Promise.resolve()
    // The transport keeps writes in order (and end() and close() after them).
    return this.#conn.write(bytes)
  }

  /** Ends the writing side (`shutdown(SHUT_WR)`) once earlier writes are done; reading goes on. */
  end(): Promise<void> {
    return this.#conn.shutdown()
  }

  /** Closes the socket (unread data is dropped). Closing twice is harmless. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#conn.close()
      this.#ended = true
      this.#settleWaiting()
    })()
    return this.#closed
  }

  /** `await using socket = await connect(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** TCP_NODELAY (default on). */
  setNoDelay(noDelay = true): this {
    this.#conn.setNoDelay(noDelay)
    return this
  }

  /** SO_KEEPALIVE, and the idle time before the first probe (TCP_KEEPIDLE, whole seconds, as Node). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    validateInteger(initialDelay, 'initialDelay', 0)
    this.#conn.setKeepAlive(enable, initialDelay)
    return this
  }

  get remoteAddress(): string | undefined {
    const r = this.#conn.remote()
    return typeof r === 'object' ? r.address : undefined
  }

  get remotePort(): number | undefined {
    const r = this.#conn.remote()
    return typeof r === 'object' ? r.port : undefined
  }

  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    const r = this.#conn.remote()
    return typeof r === 'object' ? r.family : undefined
  }

  get localAddress(): string | undefined {
    const l = this.#conn.local()
    return typeof l === 'object' ? l.address : l
  }

  get localPort(): number | undefined {
    const l = this.#conn.local()
    return typeof l === 'object' ? l.port : undefined
  }

  /** The local address, as `net.Socket#address()`. */
  address(): AddressInfo | string | Record<string, never> {
    return this.#conn.local() ?? {}
  }

  /**
   * A `node:stream` Duplex over this socket, for libraries that want streams. Use either the
   * Duplex or the socket's own read()/write(), not both.
   */
  toStream(): Duplex {
    let reading = false
    const pump = async (d: Duplex): Promise<void> => {
      if (reading) return
      reading = true
      try {
        for (;;) {
          const chunk = await this.read()
          if (!d.push(chunk)) break
          if (chunk === null) break
        }
      } catch (e) {
        d.destroy(e as Error)
      } finally {
        reading = false
      }
    }
    return new Duplex({
      read() {
        void pump(this)
      },
      write: (chunk: Buffer, _enc, cb) => {
        this.write(chunk).then(() => cb(), cb)
      },
      final: (cb) => {
        this.end().then(() => cb(), cb)
      },
      destroy: (err, cb) => {
        this.close().then(
          () => cb(err),
          () => cb(err),
        )
      },
    })
  }
}
