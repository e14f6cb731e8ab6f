// `uring/net` and `ring.net`: promise sockets. On io_uring a server accepts with one standing
// multishot accept, a socket receives with one standing multishot recv into the ring's provided
// buffers, and large writes go out with zero-copy sends; the node backend runs the same API over
// node:net. The two differ only in their transports (conn.ts names what one gives); `Socket`
// and `Server`, which users see, are written once.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { Backend } from '../backend'
import { AbortError, invalidArgType, invalidArgValue, outOfRange, UV } from '../errors'
import { validateAbortSignal, validateInteger } from '../validate'
import { type ConnectExtras, type ConnectOptions, type ListenOptions, type Resolved, type SocketBuffers, type Transport, netError } from './conn'
import { NodeTransport } from './node'
import { Server } from './server'
import { Socket } from './socket'
import { UringTransport } from './uring'

function checkListen(options: unknown): { path: string; backlog: number } | { host: string | undefined; port: number; backlog: number; reusePort: boolean } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArgType('options', 'Object', options)
  const o = options as ListenOptions
  const backlog = o.backlog ?? 511
  validateInteger(backlog, 'options.backlog', 0, 2147483647)
  const reusePort = o.reusePort ?? false
  if (typeof reusePort !== 'boolean') throw invalidArgType('options.reusePort', 'boolean', reusePort)
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || o.path.length === 0) throw invalidArgValue('options.path', o.path, 'must be a non-empty string')
    return { path: o.path, backlog }
  }
  const port = o.port ?? 0
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw outOfRange('options.port', '>= 0 and <= 65535', port)
  if (o.host !== undefined && typeof o.host !== 'string') throw invalidArgType('options.host', 'string', o.host)
  return { host: o.host, port, backlog, reusePort }
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
      const u = b.sockets?.()
      const ok = u !== undefined && (['socket', 'bind', 'listen', 'connect', 'accept', 'recv', 'send', 'shutdown', 'close'] as const).every((op) => u.has(op))
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
      r = { host: ip, family, port: o.port, backlog: o.backlog, reusePort: o.reusePort }
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
        if (timedOut?.signal.aborted && !extras.signal?.aborted) throw netError(UV.ETIMEDOUT, 'connect', 'path' in r ? r.path : r.host, 'path' in r ? undefined : r.port)
        throw e
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
