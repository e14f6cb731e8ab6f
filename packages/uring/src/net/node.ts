// The node:net transport, for the node backend: the same Conn and Listener over node:net.
import * as nodeNet from 'node:net'
import { types } from 'node:util'
import { AbortError } from '../errors'
import { type AddressInfo, type Conn, type Listener, type Resolved, type Sink, type Transport, netError } from './conn'

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
    this.#closed ??= drained.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.#s.destroyed) return resolve()
          this.#s.once('close', () => resolve())
          this.#s.destroy()
        }),
    )
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

export class NodeTransport implements Transport {
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
      else srv.listen({ host: o.host, port: o.port, backlog: o.backlog, ipv6Only: false, ...(o.reusePort ? { reusePort: true } : {}) }, done)
    })
  }

  connect(o: Resolved, signal: AbortSignal | undefined): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = 'path' in o ? nodeNet.connect({ path: o.path, allowHalfOpen: true }) : nodeNet.connect({ host: o.host, port: o.port, family: o.family, noDelay: true, allowHalfOpen: true })
      const onAbort = (): void => {
        s.destroy()
        reject(new AbortError(undefined, { cause: signal?.reason }))
      }
      // As the io_uring backend (settle.ts): a signal reached through a Proxy cannot take a
      // listener, so it is only read, once the connect ends.
      const listened = signal !== undefined && !types.isProxy(signal) ? signal : undefined
      listened?.addEventListener('abort', onAbort, { once: true })
      s.once('error', (e) => {
        listened?.removeEventListener('abort', onAbort)
        reject(e)
      })
      s.once('connect', () => {
        listened?.removeEventListener('abort', onAbort)
        s.removeAllListeners('error')
        if (signal?.aborted) return onAbort()
        resolve(new NodeConn(s))
      })
    })
  }
}
