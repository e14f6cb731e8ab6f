// `uring/net` and `ring.net`: promise sockets. On io_uring a server accepts with one standing
// multishot accept, a socket receives with one standing multishot recv into the ring's provided
// buffers, and large writes go out with zero-copy sends; the node backend runs the same API over
// node:net. The two differ only in their transports (`Conn`, `Listener` below); `Socket` and
// `Server`, which users see, are written once.
import { lookup } from 'node:dns/promises'
import { closeSync } from 'node:fs'
import { isIP } from 'node:net'
import * as nodeNet from 'node:net'
import { Duplex } from 'node:stream'
import type { Backend } from './backend'
import type { UringBackend } from './backend-uring'
import { AbortError, invalidArgType, invalidArgValue, outOfRange, RingError } from './errors'
import { getSystemErrorMap } from 'node:util'
import { loadNative } from './native'
import { shared } from './owned'
import { validateAbortSignal, validateInteger } from './validate'

/** Where a server listens: a TCP host and port (`port: 0` picks a free one), or a Unix path. */
export interface ListenOptions {
  /** Default `'0.0.0.0'` (every IPv4 address; node:net listens on `'::'` where it can). */
  host?: string
  port?: number
  /** A Unix socket path (instead of host and port). */
  path?: string
  /** Length of the kernel's queue of connections not yet accepted (default 511). */
  backlog?: number
}

/** Where to connect: a TCP host (name or IP) and port, or a Unix socket path. */
export interface ConnectOptions {
  host?: string
  port?: number
  path?: string
}

export interface ConnectExtras {
  /** Aborting cancels the connect; it rejects with an AbortError. */
  signal?: AbortSignal
  /** Milliseconds to wait for the connection before rejecting with `ETIMEDOUT`. */
  timeout?: number
}

/** As `net.Server#address()` and `net.Socket#address()`. */
export interface AddressInfo {
  address: string
  family: 'IPv4' | 'IPv6'
  port: number
}

/** Bytes a socket keeps received but unread before it stops receiving (backpressure). */
const READ_HIGH_WATER = 1 << 20
/** accept errors that mean "not now": EMFILE, ENFILE, ENOBUFS, ENOMEM (negated errnos). */
const OUT_OF_RESOURCES = new Set([-24, -23, -105, -12])
/** The wait before accepting again after one of those: doubling from the first to the last. */
const ACCEPT_BACKOFF_MIN = 10
const ACCEPT_BACKOFF_MAX = 1000
/** Connections a server keeps accepted but not yet taken before it stops accepting. */
const ACCEPT_HIGH_WATER = 128
/** Writes at least this large go out as zero-copy sends on io_uring. */
const ZEROCOPY_MIN = 64 * 1024
/** The most iovecs one writev takes (Linux's UIO_MAXIOV). */
const IOV_MAX = 1024
/** What the kernel answers a zero-copy send on a socket that cannot do one (AF_UNIX). */
const EOPNOTSUPP = 95
/** The io_uring provided-buffer group of a ring's sockets: count × size bytes. */
const GROUP = 0

const AF_INET = 2
const AF_INET6 = 10
const AF_UNIX = 1
const SOCK_STREAM = 1
const SOL_SOCKET = 1
const SO_REUSEADDR = 2
const SO_KEEPALIVE = 9
const IPPROTO_TCP = 6
const TCP_NODELAY = 1
const TCP_KEEPIDLE = 4
const SHUT_WR = 1
const ENOBUFS = -105
const ECANCELED = -125
const F_MORE = 2

const errnos = getSystemErrorMap()

/** Node's error for a failed socket call: `connect ECONNREFUSED 127.0.0.1:80`, with fields. */
function netError(errno: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException & { address?: string; port?: number } {
  const [code, desc] = errnos.get(errno) ?? [`Unknown system error ${errno}`, `Unknown system error ${errno}`]
  let where = address ?? ''
  if (port !== undefined && port > 0) where += `:${port}`
  // Node words listen errors with the description (uvExceptionWithHostPort), others without.
  const message = syscall === 'listen' ? `${syscall} ${code}: ${desc}${where ? ` ${where}` : ''}` : `${syscall} ${code}${where ? ` ${where}` : ''}`
  const err = new Error(message) as NodeJS.ErrnoException & { address?: string; port?: number }
  err.errno = errno
  err.code = code
  err.syscall = syscall
  if (address !== undefined) err.address = address
  if (port !== undefined && port > 0) err.port = port
  return err
}

/** The errno a binding's synchronous call threw (`errno N`), as a negative number. */
function thrownErrno(e: unknown): number {
  const m = /errno (\d+)/.exec((e as Error)?.message ?? '')
  return m ? -Number(m[1]) : -22
}

/** Receives what a connection reads. */
interface Sink {
  data(chunk: Buffer): void
  end(): void
  error(e: Error): void
}

/** One connected socket, as a transport sees it. */
interface Conn {
  /** Starts delivering data to `sink`; `pause()`/`resume()` stop and restart receiving. */
  start(sink: Sink): void
  pause(): void
  resume(): void
  /** Writes all of `bytes`; resolves once the kernel has taken them. */
  write(bytes: Uint8Array): Promise<void>
  /** shutdown(SHUT_WR). */
  shutdown(): Promise<void>
  close(): Promise<void>
  setNoDelay(on: boolean): void
  setKeepAlive(on: boolean, delayMs: number): void
  local(): AddressInfo | string | undefined
  remote(): AddressInfo | string | undefined
}

/** A listening socket, as a transport sees it. */
interface Listener {
  start(onConn: (c: Conn) => void, onError: (e: Error) => void): void
  pause(): void
  resume(): void
  close(): Promise<void>
  address(): AddressInfo | string | null
}

interface Transport {
  listen(o: Resolved): Promise<Listener>
  connect(o: Resolved, signal: AbortSignal | undefined): Promise<Conn>
}

/** The provided buffers of a ring's sockets (`RingOptions.socketBuffers`, checked). */
interface SocketBuffers {
  count: number
  size: number
}

/** Options after checking: a Unix path, or a numeric IP address with its family and a port. */
type Resolved = { path: string; backlog: number } | { host: string; family: 4 | 6; port: number; backlog: number }

function familyName(f: number): 'IPv4' | 'IPv6' {
  return f === 6 ? 'IPv6' : 'IPv4'
}

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
        this.close().then(() => cb(err), () => cb(err))
      },
    })
  }
}

/** A listening server: `for await (const socket of server)` takes its connections. */
export class Server implements AsyncIterable<Socket> {
  #listener: Listener
  #ready: Socket[] = []
  #waiting: { resolve: (s: Socket | null) => void; reject: (e: Error) => void } | undefined
  #error: Error | undefined
  #paused = false
  #closing: Promise<void> | undefined

  /** @internal */
  constructor(listener: Listener) {
    this.#listener = listener
    listener.start(
      (conn) => {
        const s = new Socket(conn)
        if (this.#closing !== undefined) {
          void s.close()
          return
        }
        if (this.#waiting !== undefined) {
          const w = this.#waiting
          this.#waiting = undefined
          w.resolve(s)
          return
        }
        this.#ready.push(s)
        if (this.#ready.length >= ACCEPT_HIGH_WATER && !this.#paused) {
          this.#paused = true
          listener.pause()
        }
      },
      (e) => {
        this.#error ??= e
        const w = this.#waiting
        this.#waiting = undefined
        w?.reject(e)
      },
    )
  }

  /** The address the server listens on (`{ address, family, port }`, or the path of a Unix socket). */
  address(): AddressInfo | string | null {
    return this.#listener.address()
  }

  /** The next connection, or null once the server is closed. */
  accept(): Promise<Socket | null> {
    const s = this.#ready.shift()
    if (s !== undefined) {
      if (this.#paused && this.#ready.length < ACCEPT_HIGH_WATER / 2) {
        this.#paused = false
        this.#listener.resume()
      }
      return Promise.resolve(s)
    }
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#closing !== undefined) return Promise.resolve(null)
    if (this.#waiting !== undefined) return Promise.reject(new RingError('ERR_ACCEPT_PENDING', 'an accept() is already waiting on this server'))
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }))
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Socket> {
    for (;;) {
      const s = await this.accept()
      if (s === null) return
      yield s
    }
  }

  /** Stops accepting and closes the listening socket. Connections already accepted stay open; ones not yet taken are closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listener.close()
      for (const s of this.#ready.splice(0)) await s.close()
      const w = this.#waiting
      this.#waiting = undefined
      w?.resolve(null)
    })()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

// ---- checking and resolving addresses ----

function checkListen(options: unknown): { path: string; backlog: number } | { host: string | undefined; port: number; backlog: number } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArgType('options', 'Object', options)
  const o = options as ListenOptions
  const backlog = o.backlog ?? 511
  validateInteger(backlog, 'options.backlog', 0, 2147483647)
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || o.path.length === 0) throw invalidArgValue('options.path', o.path, 'must be a non-empty string')
    return { path: o.path, backlog }
  }
  const port = o.port ?? 0
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw outOfRange('options.port', '>= 0 and <= 65535', port)
  if (o.host !== undefined && typeof o.host !== 'string') throw invalidArgType('options.host', 'string', o.host)
  return { host: o.host, port, backlog }
}

function checkConnect(options: unknown): { path: string } | { host: string; port: number } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArgType('options', 'Object', options)
  const o = options as ConnectOptions
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || o.path.length === 0) throw invalidArgValue('options.path', o.path, 'must be a non-empty string')
    return { path: o.path }
  }
  const port = o.port
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) throw outOfRange('options.port', '> 0 and <= 65535', port)
  if (o.host !== undefined && typeof o.host !== 'string') throw invalidArgType('options.host', 'string', o.host)
  return { host: o.host ?? 'localhost', port }
}

/** A host name or IP literal to one IP address and its family (dns.lookup, as node:net). */
async function resolveHost(host: string): Promise<{ host: string; family: 4 | 6 }> {
  const f = isIP(host)
  if (f !== 0) return { host, family: f as 4 | 6 }
  const r = await lookup(host)
  return { host: r.address, family: r.family as 4 | 6 }
}

// ---- the io_uring transport ----

class UringConn implements Conn {
  #b: UringBackend
  #fd: number
  #recv = -1
  #sink: Sink | undefined
  #paused = false
  #closed = false
  #ended = false
  #remote: AddressInfo | string | undefined
  #local: AddressInfo | string | undefined

  #buffers: SocketBuffers

  constructor(b: UringBackend, fd: number, buffers: SocketBuffers) {
    this.#b = b
    this.#fd = fd
    this.#buffers = buffers
  }

  start(sink: Sink): void {
    this.#sink = sink
    this.#arm()
  }

  /** Starts the standing multishot recv (unless paused, ended or closed). */
  #arm(): void {
    if (this.#recv >= 0 || this.#paused || this.#closed || this.#ended) return
    try {
      ensureGroup(this.#b, this.#buffers)
      this.#recv = this.#b.netStream((n) => n.recvMulti(this.#fd, GROUP), (r, flags) => this.#received(r, flags))
    } catch (e) {
      this.#sink?.error(e as Error)
    }
  }

  #received(r: number, flags: number): void {
    const last = (flags & F_MORE) === 0
    if (last) this.#recv = -1
    if (r > 0) {
      // Small chunks come from Node's Buffer pool, as Buffer.allocUnsafe gives them.
      const chunk = Buffer.allocUnsafe(r)
      this.#b.netHot[1](GROUP, flags >>> 0, r, chunk)
      this.#sink?.data(chunk)
      if (last) this.#arm()
      return
    }
    if (!last) return
    if (r === 0) {
      this.#ended = true
      this.#sink?.end()
    } else if (r === ENOBUFS) {
      // The ring's buffers ran out (other sockets hold them): ask again.
      setImmediate(() => this.#arm())
    } else if (r === ECANCELED) {
      // Paused, or closing: resume() re-arms.
      if (!this.#paused && !this.#closed) this.#arm()
    } else if (!this.#closed) {
      this.#sink?.error(netError(r, 'read'))
    }
  }

  pause(): void {
    this.#paused = true
    if (this.#recv >= 0) this.#b.cancelOp(this.#recv)
  }

  resume(): void {
    this.#paused = false
    this.#arm()
  }

  /** Writes waiting while a send is in flight: they go out together when it completes. */
  #queue: Array<{ bytes: Uint8Array; resolve: () => void; reject: (e: Error) => void }> = []
  #sending = false
  #idle: Array<() => void> = []

  /**
   * Queues `bytes`; resolves once the kernel has taken all of them. One send at a time per socket
   * keeps the bytes in order (two sends in flight could complete out of order); what queues
   * meanwhile goes out as one writev when the send completes.
   */
  write(bytes: Uint8Array): Promise<void> {
    // Sent at once, the native ring copies the bytes into memory the send owns (or uses a
    // SharedArrayBuffer's in place); sent later, they are copied now, into a buffer of the
    // library's (not Node's pool, which user code can detach on Node 20), sent in place: user
    // code may detach or refill `bytes` as soon as write returns.
    if (!this.#sending && bytes.byteLength < ZEROCOPY_MIN) return this.#sendOne(bytes)
    if (!shared(bytes)) {
      const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
      copy.set(bytes)
      bytes = copy
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject })
      if (!this.#sending) this.#next()
    })
  }

  /** The common write: nothing queued, one send, no batch bookkeeping. */
  #sendOne(b: Uint8Array): Promise<void> {
    this.#sending = true
    // Measured now: user code may detach `b` once write returns (the send has its own copy).
    const len = b.byteLength
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => {
        reject(e)
        for (const w of this.#queue.splice(0)) w.reject(e)
        this.#next()
      }
      try {
        this.#b.netStream(
          () => this.#b.netHot[0](this.#fd, b, 0, len),
          (n) => {
            if (n === len) {
              resolve()
              this.#next()
            } else if (n > 0 && b.byteLength === len) {
              // Short only when the connection failed midway (sends are MSG_WAITALL): try the rest.
              this.#sendAll(b.subarray(n)).then(() => {
                resolve()
                this.#next()
              }, fail)
            } else fail(netError(n < 0 ? n : -32, 'write'))
          },
        )
      } catch (e) {
        fail(e as Error)
      }
    })
  }

  /** Sends what is queued (one send, or one writev for several), then whatever queued meanwhile. */
  #next(): void {
    if (this.#queue.length === 0) {
      this.#sending = false
      for (const f of this.#idle.splice(0)) f()
      return
    }
    this.#sending = true
    // At most IOV_MAX buffers per writev (the kernel refuses more: EINVAL); the rest go next.
    const batch = this.#queue.splice(0, IOV_MAX)
    const done = (): void => {
      for (const w of batch) w.resolve()
      this.#next()
    }
    const fail = (e: Error): void => {
      for (const w of batch.concat(this.#queue.splice(0))) w.reject(e)
      this.#next()
    }
    if (batch.length === 1) {
      const b = batch[0].bytes
      if (b.byteLength < ZEROCOPY_MIN) {
        // The common case, with no promise of its own: one send, which is rarely short.
        try {
          this.#b.netStream(
            () => this.#b.netHot[0](this.#fd, b, 0, b.byteLength, true),
            (n) => (n === b.byteLength ? done() : n > 0 ? this.#sendAll(b.subarray(n), true).then(done, fail) : fail(netError(n < 0 ? n : -32, 'write'))),
          )
        } catch (e) {
          fail(e as Error)
        }
      } else this.#sendAll(b, true).then(done, fail)
    } else this.#sendv(batch.map((w) => w.bytes)).then(done, fail)
  }

  /** Resolves once no write is queued or in flight. */
  #drained(): Promise<void> {
    if (!this.#sending) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /** Zero-copy sends were refused on this socket (a Unix socket: EOPNOTSUPP): copying sends from now on. */
  #noZc = false

  /** `own`: `bytes` is a buffer of the library's (a queued write's copy), sent in place. */
  async #sendAll(bytes: Uint8Array, own = false): Promise<void> {
    let off = 0
    while (off < bytes.byteLength) {
      const len = Math.min(bytes.byteLength - off, 0x7fffffff)
      let n = len >= ZEROCOPY_MIN && !this.#noZc && this.#b.has('send_zc') ? await this.#sendZc(bytes, off, len, own) : -EOPNOTSUPP
      if (n === -EOPNOTSUPP) {
        this.#noZc ||= len >= ZEROCOPY_MIN
        n = await this.#b.netCall('write', () => this.#b.netHot[0](this.#fd, bytes, off, len, own)).catch((e) => Promise.reject(netError(e.errno, 'write')))
      }
      if (n <= 0) throw netError(n < 0 ? n : -32, 'write')
      off += n
    }
  }

  /** Several queued writes in one `writev`; what a short write left goes out with `#sendAll`. */
  async #sendv(bufs: Uint8Array[]): Promise<void> {
    // Queued writes' buffers are the library's own copies: sent in place.
    const n = await this.#b.netCall('write', (native) => native.writev(this.#fd, bufs, -1, true)).catch((e) => Promise.reject(netError(e.errno, 'write')))
    let left = n
    for (const b of bufs) {
      if (left >= b.byteLength) {
        left -= b.byteLength
        continue
      }
      await this.#sendAll(b.subarray(left), true)
      left = 0
    }
  }

  /**
   * A zero-copy send: resolves with the bytes sent once the kernel's notification says it no
   * longer reads `bytes`, or with -EOPNOTSUPP where the socket cannot send zero-copy (the
   * caller then sends with a copy).
   */
  #sendZc(bytes: Uint8Array, off: number, len: number, own: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      let sent = 0
      try {
        this.#b.netStream(
          (native) => native.send(this.#fd, bytes, off, len, true, own),
          (r, flags) => {
            // The result CQE, not the notification (IORING_CQE_F_NOTIF, 8) that may follow it.
            if ((flags & 8) === 0) sent = r
            if ((flags & F_MORE) === 0) {
              if (sent === -EOPNOTSUPP) resolve(sent)
              else if (sent < 0) reject(netError(sent, 'write'))
              else resolve(sent)
            }
          },
        )
      } catch (e) {
        reject(e)
      }
    })
  }

  async shutdown(): Promise<void> {
    await this.#drained()
    return this.#b.netCall('shutdown', (native) => native.shutdown(this.#fd, SHUT_WR)).then(
      () => undefined,
      (e) => Promise.reject(netError(e.errno, 'shutdown')),
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#recv >= 0) this.#b.cancelOp(this.#recv)
    await this.#drained()
    await closeFd(this.#b, this.#fd)
  }

  setNoDelay(on: boolean): void {
    sockOpt(this.#fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0)
  }

  setKeepAlive(on: boolean, delayMs: number): void {
    sockOpt(this.#fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0)
    if (on && delayMs > 0) sockOpt(this.#fd, IPPROTO_TCP, TCP_KEEPIDLE, Math.max(1, Math.floor(delayMs / 1000)))
  }

  local(): AddressInfo | string | undefined {
    return (this.#local ??= name(this.#fd, false))
  }

  remote(): AddressInfo | string | undefined {
    return (this.#remote ??= name(this.#fd, true))
  }
}

function sockOpt(fd: number, level: number, opt: number, value: number): void {
  try {
    loadNative().binding!.setSockOpt(fd, level, opt, value)
  } catch (e) {
    // A Unix socket has no TCP options: ignored, as node:net does.
    if (thrownErrno(e) !== -95) throw netError(thrownErrno(e), 'setsockopt')
  }
}

function name(fd: number, peer: boolean): AddressInfo | string | undefined {
  try {
    const [family, address, port] = loadNative().binding!.sockName(fd, peer)
    return family === 0 ? address : { address, family: familyName(family), port }
  } catch {
    return undefined
  }
}

/**
 * Closes a socket's fd on the ring, or through node:fs once the ring is closed (the fd is still
 * ours to close). Errors are ignored, as node:net ignores them on destroy.
 */
function closeFd(b: UringBackend, fd: number): Promise<void> {
  b.disown(fd)
  return b.netCall('close', (n) => n.close(fd)).then(
    () => undefined,
    (e) => {
      if ((e as { code?: string }).code === 'ERR_RING_CLOSED') {
        try {
          closeSync(fd)
        } catch {}
      }
    },
  )
}

const groups = new WeakSet<UringBackend>()

/** The ring's provided-buffer group for socket reads, registered on first use. */
function ensureGroup(b: UringBackend, buffers: SocketBuffers): void {
  if (groups.has(b)) return
  b.nativeRing.addBufferGroup(GROUP, buffers.count, buffers.size)
  groups.add(b)
}

class UringListener implements Listener {
  #b: UringBackend
  #fd: number
  #accept = -1
  #onConn: ((c: Conn) => void) | undefined
  #onError: ((e: Error) => void) | undefined
  #paused = false
  #closed = false
  #address: AddressInfo | string | null

  #buffers: SocketBuffers

  constructor(b: UringBackend, fd: number, address: AddressInfo | string | null, buffers: SocketBuffers) {
    this.#b = b
    this.#fd = fd
    this.#address = address
    this.#buffers = buffers
  }

  start(onConn: (c: Conn) => void, onError: (e: Error) => void): void {
    this.#onConn = onConn
    this.#onError = onError
    this.#arm()
  }

  #arm(): void {
    if (this.#accept >= 0 || this.#paused || this.#closed) return
    try {
      this.#accept = this.#b.netStream((n) => n.accept(this.#fd, true), (r, flags) => this.#accepted(r, flags))
    } catch (e) {
      this.#onError?.(e as Error)
    }
  }

  #accepted(r: number, flags: number): void {
    const last = (flags & F_MORE) === 0
    if (last) this.#accept = -1
    if (r >= 0) {
      this.#b.own(r)
      if (this.#closed) void closeFd(this.#b, r)
      else {
        const conn = new UringConn(this.#b, r, this.#buffers)
        // TCP_NODELAY, as for connected sockets (a Unix socket ignores it).
        if (typeof this.#address !== 'string') conn.setNoDelay(true)
        this.#onConn?.(conn)
      }
    } else if (r !== ECANCELED && !this.#closed) {
      // Transient accept errors (the peer gave up, fds ran out for a moment) end only this attempt.
      if (r !== -103 && !OUT_OF_RESOURCES.has(r)) this.#onError?.(netError(r, 'accept'))
    }
    if (r >= 0) this.#backoff = 0
    if (!last || this.#closed || this.#paused) return
    if (OUT_OF_RESOURCES.has(r)) {
      // Out of fds or memory: accepting again at once would fail again at once, a whole core
      // spent spinning. Wait, doubling from 10 ms up to 1 s, as long as it lasts.
      this.#backoff = Math.min(this.#backoff === 0 ? ACCEPT_BACKOFF_MIN : this.#backoff * 2, ACCEPT_BACKOFF_MAX)
      this.#retry = setTimeout(() => {
        this.#retry = undefined
        this.#arm()
      }, this.#backoff)
    } else setImmediate(() => this.#arm())
  }

  /** The current wait before accepting again after running out of resources (0: none). */
  #backoff = 0
  #retry: NodeJS.Timeout | undefined

  pause(): void {
    this.#paused = true
    if (this.#accept >= 0) this.#b.cancelOp(this.#accept)
  }

  resume(): void {
    this.#paused = false
    this.#arm()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#retry)
    if (this.#accept >= 0) this.#b.cancelOp(this.#accept)
    await closeFd(this.#b, this.#fd)
  }

  address(): AddressInfo | string | null {
    return this.#closed ? null : this.#address
  }
}

class UringTransport implements Transport {
  constructor(
    private readonly b: UringBackend,
    private readonly buffers: SocketBuffers,
  ) {}

  async #socket(domain: number): Promise<number> {
    const fd: number = await this.b.netCall('socket', (n) => n.socket(domain, SOCK_STREAM, 0)).catch((e) => Promise.reject(netError(e.errno, 'socket')))
    // Closed by the ring if the thread ends first; every path that drops it goes through closeFd.
    this.b.own(fd)
    return fd
  }

  async listen(o: Resolved): Promise<Listener> {
    const unix = 'path' in o
    const fd = await this.#socket(unix ? AF_UNIX : o.family === 6 ? AF_INET6 : AF_INET)
    try {
      if (!unix) sockOpt(fd, SOL_SOCKET, SO_REUSEADDR, 1)
      const fam = unix ? 0 : o.family
      const addr = unix ? o.path : o.host
      const port = unix ? 0 : o.port
      // Node reports a failed bind as a failed listen (EADDRINUSE, EACCES).
      await this.b.netCall('bind', (n) => n.bind(fd, fam, addr, port)).catch((e) => Promise.reject(netError(e.errno, 'listen', addr, unix ? undefined : port)))
      await this.b.netCall('listen', (n) => n.listen(fd, o.backlog)).catch((e) => Promise.reject(netError(e.errno, 'listen', addr, unix ? undefined : port)))
    } catch (e) {
      await closeFd(this.b, fd)
      throw e
    }
    return new UringListener(this.b, fd, unix ? o.path : (name(fd, false) ?? null), this.buffers)
  }

  async connect(o: Resolved, signal: AbortSignal | undefined): Promise<Conn> {
    const unix = 'path' in o
    const fd = await this.#socket(unix ? AF_UNIX : o.family === 6 ? AF_INET6 : AF_INET)
    const addr = unix ? o.path : o.host
    const port = unix ? 0 : o.port
    try {
      await this.b.netCall('connect', (n) => n.connect(fd, unix ? 0 : o.family, addr, port), signal).catch((e) => {
        if (e?.name === 'AbortError') throw e
        throw netError(e.errno, 'connect', addr, unix ? undefined : port)
      })
    } catch (e) {
      await closeFd(this.b, fd)
      throw e
    }
    const conn = new UringConn(this.b, fd, this.buffers)
    if (!unix) conn.setNoDelay(true)
    return conn
  }
}

// ---- the node:net transport ----

class NodeConn implements Conn {
  #s: nodeNet.Socket
  #closed: Promise<void> | undefined

  constructor(s: nodeNet.Socket) {
    this.#s = s
  }

  start(sink: Sink): void {
    this.#s.on('data', (chunk: Buffer) => sink.data(chunk))
    this.#s.on('end', () => sink.end())
    this.#s.on('error', (e) => sink.error(e))
    this.#s.on('close', () => sink.end())
  }

  pause(): void {
    this.#s.pause()
  }

  resume(): void {
    this.#s.resume()
  }

  #pending = 0
  #idle: Array<() => void> = []

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#s.destroyed) return reject(netError(-32, 'write'))
      this.#pending++
      this.#s.write(bytes, (e) => {
        if (--this.#pending === 0) for (const f of this.#idle.splice(0)) f()
        if (e) reject(e)
        else resolve()
      })
    })
  }

  shutdown(): Promise<void> {
    return new Promise((resolve) => this.#s.end(resolve))
  }

  close(): Promise<void> {
    // As on io_uring: writes already made go out before the socket closes.
    const drained = this.#pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#idle.push(resolve))
    this.#closed ??= drained.then(() => new Promise<void>((resolve) => {
      if (this.#s.destroyed) return resolve()
      this.#s.once('close', () => resolve())
      this.#s.destroy()
    }))
    return this.#closed
  }

  setNoDelay(on: boolean): void {
    this.#s.setNoDelay(on)
  }

  setKeepAlive(on: boolean, delayMs: number): void {
    this.#s.setKeepAlive(on, delayMs)
  }

  local(): AddressInfo | string | undefined {
    const a = this.#s.address()
    if (typeof a === 'string') return a
    if (!a || !('address' in a)) return undefined
    return { address: a.address, family: a.family as 'IPv4' | 'IPv6', port: a.port }
  }

  remote(): AddressInfo | string | undefined {
    if (this.#s.remoteAddress === undefined) return undefined
    return { address: this.#s.remoteAddress, family: this.#s.remoteFamily as 'IPv4' | 'IPv6', port: this.#s.remotePort ?? 0 }
  }
}

class NodeListener implements Listener {
  #srv: nodeNet.Server
  #path: string | undefined
  constructor(srv: nodeNet.Server, path: string | undefined) {
    this.#srv = srv
    this.#path = path
  }

  start(onConn: (c: Conn) => void, onError: (e: Error) => void): void {
    this.#srv.on('connection', (s) => onConn(new NodeConn(s)))
    this.#srv.on('error', onError)
  }

  pause(): void {}
  resume(): void {}

  close(): Promise<void> {
    // node:net's close callback waits for every live connection; the listening socket itself
    // closes at once, which is all this promise stands for.
    if (this.#srv.listening) this.#srv.close()
    return new Promise((resolve) => setImmediate(resolve))
  }

  address(): AddressInfo | string | null {
    const a = this.#srv.address()
    if (a === null) return null
    if (typeof a === 'string') return this.#path ?? a
    return { address: a.address, family: a.family as 'IPv4' | 'IPv6', port: a.port }
  }
}

class NodeTransport implements Transport {
  listen(o: Resolved): Promise<Listener> {
    return new Promise((resolve, reject) => {
      // Half-open like io_uring sockets: a peer's end() leaves this side able to write.
      const srv = nodeNet.createServer({ noDelay: true, allowHalfOpen: true })
      srv.once('error', reject)
      const done = (): void => {
        srv.off('error', reject)
        resolve(new NodeListener(srv, 'path' in o ? o.path : undefined))
      }
      if ('path' in o) srv.listen({ path: o.path, backlog: o.backlog }, done)
      else srv.listen({ host: o.host, port: o.port, backlog: o.backlog, ipv6Only: false }, done)
    })
  }

  connect(o: Resolved, signal: AbortSignal | undefined): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = 'path' in o ? nodeNet.connect({ path: o.path, allowHalfOpen: true }) : nodeNet.connect({ host: o.host, port: o.port, family: o.family, noDelay: true, allowHalfOpen: true })
      const onAbort = (): void => {
        s.destroy()
        reject(new AbortError(undefined, { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      s.once('error', (e) => {
        signal?.removeEventListener('abort', onAbort)
        reject(e)
      })
      s.once('connect', () => {
        signal?.removeEventListener('abort', onAbort)
        s.removeAllListeners('error')
        resolve(new NodeConn(s))
      })
    })
  }
}

/** The socket API of one ring (`ring.net`); `uring/net` is the default ring's. */
export class NetApi {
  readonly #backend: () => Backend
  readonly #buffers: SocketBuffers
  readonly #transports = new WeakMap<Backend, Transport>()

  /** @internal */
  constructor(backend: () => Backend, buffers: SocketBuffers = { count: 256, size: 32768 }) {
    this.#backend = backend
    this.#buffers = buffers
  }

  #transport(): Transport {
    const b = this.#backend()
    let t = this.#transports.get(b)
    if (t === undefined) {
      // Sockets need the socket opcodes (and provided-buffer rings: kernel 6.0+); else node:net.
      const u = b.kind === 'io_uring' ? (b as UringBackend) : undefined
      const ok = u !== undefined && ['socket', 'bind', 'listen', 'connect', 'accept', 'recv', 'send', 'shutdown', 'close'].every((op) => u.has(op))
      t = ok ? new UringTransport(u, this.#buffers) : new NodeTransport()
      this.#transports.set(b, t)
    }
    return t
  }

  /** Listens on a TCP host and port (IPv4 or IPv6) or a Unix socket path. */
  async listen(options: ListenOptions = {}): Promise<Server> {
    const o = checkListen(options)
    let r: Resolved
    if ('path' in o) r = o
    else {
      const host = o.host ?? '0.0.0.0'
      const { host: ip, family } = await resolveHost(host)
      r = { host: ip, family, port: o.port, backlog: o.backlog }
    }
    return new Server(await this.#transport().listen(r))
  }

  /** Connects to a TCP host and port, or a Unix socket path. */
  async connect(options: ConnectOptions, extras: ConnectExtras = {}): Promise<Socket> {
    const o = checkConnect(options)
    if (extras === null || typeof extras !== 'object') throw invalidArgType('options', 'Object', extras)
    validateAbortSignal(extras.signal, 'options.signal')
    if (extras.timeout !== undefined) validateInteger(extras.timeout, 'options.timeout', 0)
    if (extras.signal?.aborted) throw new AbortError(undefined, { cause: extras.signal.reason })
    let signal = extras.signal
    let timedOut: AbortController | undefined
    let timer: NodeJS.Timeout | undefined
    if (extras.timeout !== undefined) {
      timedOut = new AbortController()
      timer = setTimeout(() => timedOut!.abort(), extras.timeout)
      signal = signal ? AbortSignal.any([signal, timedOut.signal]) : timedOut.signal
    }
    try {
      let r: Resolved
      if ('path' in o) r = { path: o.path, backlog: 0 }
      else {
        const { host, family } = await resolveHost(o.host)
        r = { host, family, port: o.port, backlog: 0 }
      }
      try {
        return new Socket(await this.#transport().connect(r, signal))
      } catch (e) {
        if (timedOut?.signal.aborted && !extras.signal?.aborted) throw netError(-110, 'connect', 'path' in r ? r.path : r.host, 'path' in r ? undefined : r.port)
        throw e
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
