// The seam of `uring/net`: what a transport (io_uring in uring.ts, node:net in node.ts) gives
// the Socket and Server that users see (Conn, Listener, Transport), the public option types, and
// what both sides share: Node-shaped errors.
import { getSystemErrorMap } from 'node:util'

/** Where a server listens: a TCP host and port (`port: 0` picks a free one), or a Unix path. */
export interface ListenOptions {
  /** Default `'0.0.0.0'` (every IPv4 address; node:net listens on `'::'` where it can). */
  host?: string
  port?: number
  /** A Unix socket path (instead of host and port). */
  path?: string
  /** Length of the kernel's queue of connections not yet accepted (default 511). */
  backlog?: number
  /**
   * `SO_REUSEPORT` (TCP only, default false): several servers — one per worker thread or
   * process, each with its own ring — listen on the same host and port, and the kernel spreads
   * new connections among them. As node:net's `reusePort` (Node 22.12+); the node backend passes
   * it on, so on older Node the second listen fails with EADDRINUSE, as node:net's would.
   */
  reusePort?: boolean
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

const errnos = getSystemErrorMap()

/** Node's error for a failed socket call: `connect ECONNREFUSED 127.0.0.1:80`, with fields. */
export function netError(errno: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException & { address?: string; port?: number } {
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

/** Receives what a connection reads. */
export interface Sink {
  data(chunk: Buffer): void
  end(): void
  error(e: Error): void
}

/** One connected socket, as a transport sees it. */
export interface Conn {
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
export interface Listener {
  start(onConn: (c: Conn) => void, onError: (e: Error) => void): void
  pause(): void
  resume(): void
  close(): Promise<void>
  address(): AddressInfo | string | null
}

export interface Transport {
  listen(o: Resolved): Promise<Listener>
  connect(o: Resolved, signal: AbortSignal | undefined): Promise<Conn>
}

/** The provided buffers of a ring's sockets (`RingOptions.socketBuffers`, checked). */
export interface SocketBuffers {
  count: number
  size: number
}

/** Options after checking: a Unix path, or a numeric IP address with its family and a port. */
export type Resolved = { path: string; backlog: number } | { host: string; family: 4 | 6; port: number; backlog: number; reusePort?: boolean }
