// The io_uring transport: one standing multishot accept per server, one standing multishot recv
// into the ring's provided buffers per socket, zero-copy sends for large writes.
import { closeSync } from 'node:fs'
import type { SocketRing } from '../backend'
import { UV } from '../errors'
import { loadNative } from '../native'
import { F_MORE } from '../settle'
import { shared } from '../owned'
import { type AddressInfo, type Conn, type Listener, type Resolved, type Sink, type SocketBuffers, type Transport, netError } from './conn'

/** accept errors that mean "not now": EMFILE, ENFILE, ENOBUFS, ENOMEM. */
const OUT_OF_RESOURCES = new Set<number>([UV.EMFILE, UV.ENFILE, UV.ENOBUFS, UV.ENOMEM])
/** The wait before accepting again after one of those: doubling from the first to the last. */
const ACCEPT_BACKOFF_MIN = 10
const ACCEPT_BACKOFF_MAX = 1000
/** Writes at least this large go out as zero-copy sends on io_uring. */
const ZEROCOPY_MIN = 64 * 1024
/** The most iovecs one writev takes (Linux's UIO_MAXIOV). */
const IOV_MAX = 1024
/** The io_uring provided-buffer group of a ring's sockets: count × size bytes. */
const GROUP = 0
const AF_INET = 2
const AF_INET6 = 10
const AF_UNIX = 1
const SOCK_STREAM = 1
const SOL_SOCKET = 1
const SO_REUSEADDR = 2
const SO_REUSEPORT = 15
const SO_KEEPALIVE = 9
const IPPROTO_TCP = 6
const TCP_NODELAY = 1
const TCP_KEEPIDLE = 4
const SHUT_WR = 1

/** The errno (negative) of an error a binding's synchronous syscall threw (its `errno` property). */
function thrownErrno(e: unknown): number {
  const errno = (e as { errno?: unknown } | null)?.errno
  return typeof errno === 'number' ? errno : UV.EINVAL
}

function familyName(f: number): 'IPv4' | 'IPv6' {
  return f === 6 ? 'IPv6' : 'IPv4'
}

/** What a write resolves to when the socket took it all at once. */
const SENT: Promise<void> = Promise.resolve()

class UringConn implements Conn {
  #b: SocketRing
  #fd: number
  #recv = -1
  #sink: Sink | undefined
  #paused = false
  #closed = false
  #ended = false
  #remote: AddressInfo | string | undefined
  #local: AddressInfo | string | undefined

  #buffers: SocketBuffers

  constructor(b: SocketRing, fd: number, buffers: SocketBuffers) {
    this.#b = b
    this.#fd = fd
    this.#buffers = buffers
    this.#trySend = b.mode === 'defer_taskrun' ? b.netHot[2] : undefined
  }

  /**
   * `send(2)` with MSG_DONTWAIT from the JS thread, straight from the caller's bytes (no copy, no
   * op), on a ring whose kernel work runs on the JS thread anyway (DEFER_TASKRUN: a send through
   * the ring would run in this thread's next `io_uring_enter`); undefined on other rings.
   */
  readonly #trySend: ((fd: number, buffer: ArrayBufferView, offset: number, length: number) => number) | undefined

  start(sink: Sink): void {
    this.#sink = sink
    this.#arm()
  }

  /** Starts the standing multishot recv (unless paused, ended or closed). */
  #arm(): void {
    if (this.#recv >= 0 || this.#paused || this.#closed || this.#ended) return
    try {
      ensureGroup(this.#b, this.#buffers)
      this.#recv = this.#b.netStream(
        (n) => n.recvMulti(this.#fd, GROUP),
        (r, flags) => this.#received(r, flags),
      )
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
    } else if (r === UV.ENOBUFS) {
      // The ring's buffers ran out (other sockets hold them): ask again.
      setImmediate(() => this.#arm())
    } else if (r === UV.ECANCELED) {
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
    if (!this.#sending && this.#trySend !== undefined) {
      // Nothing in flight on the socket, so nothing to keep the order with: what the socket
      // takes now is sent; the rest (its buffer full: EAGAIN, or taken in part) goes on below.
      const n = this.#trySend(this.#fd, bytes, 0, bytes.byteLength)
      if (n === bytes.byteLength) return SENT
      if (n > 0) bytes = bytes.subarray(n)
      else if (n !== UV.EAGAIN) return Promise.reject(netError(n, 'write'))
    }
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
      let n = len >= ZEROCOPY_MIN && !this.#noZc && this.#b.has('send_zc') ? await this.#sendZc(bytes, off, len, own) : UV.EOPNOTSUPP
      if (n === UV.EOPNOTSUPP) {
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
              if (sent === UV.EOPNOTSUPP) resolve(sent)
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
    return this.#b
      .netCall('shutdown', (native) => native.shutdown(this.#fd, SHUT_WR))
      .then(
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
    if (thrownErrno(e) !== UV.EOPNOTSUPP) throw netError(thrownErrno(e), 'setsockopt')
  }
}

export function name(fd: number, peer: boolean): AddressInfo | string | undefined {
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
function closeFd(b: SocketRing, fd: number): Promise<void> {
  // (The native close forgets the fd as owned as it issues the close.)
  return b
    .netCall('close', (n) => n.close(fd))
    .then(
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

const groups = new WeakSet<SocketRing>()

/** The ring's provided-buffer group for socket reads, registered on first use. */
function ensureGroup(b: SocketRing, buffers: SocketBuffers): void {
  if (groups.has(b)) return
  b.nativeRing.addBufferGroup(GROUP, buffers.count, buffers.size)
  groups.add(b)
}

class UringListener implements Listener {
  #b: SocketRing
  #fd: number
  #accept = -1
  #onConn: ((c: Conn) => void) | undefined
  #onError: ((e: Error) => void) | undefined
  #paused = false
  #closed = false
  #address: AddressInfo | string | null

  #buffers: SocketBuffers

  constructor(b: SocketRing, fd: number, address: AddressInfo | string | null, buffers: SocketBuffers) {
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
      this.#accept = this.#b.netStream(
        (n) => n.accept(this.#fd, true),
        (r, flags) => this.#accepted(r, flags),
      )
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
    } else if (r !== UV.ECANCELED && !this.#closed) {
      // Transient accept errors (the peer gave up, fds ran out for a moment) end only this attempt.
      if (r !== UV.ECONNABORTED && !OUT_OF_RESOURCES.has(r)) this.#onError?.(netError(r, 'accept'))
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

export class UringTransport implements Transport {
  constructor(
    private readonly b: SocketRing,
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
      if (!unix && o.reusePort) sockOpt(fd, SOL_SOCKET, SO_REUSEPORT, 1)
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
      await this.b
        .netCall('connect', (n) => n.connect(fd, unix ? 0 : o.family, addr, port), signal)
        .catch((e) => {
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
