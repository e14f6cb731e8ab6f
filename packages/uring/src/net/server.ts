// Server: a listening socket, written once over a transport's Listener.
import { RingError } from '../errors'
import type { AddressInfo, Listener } from './conn'
import { Socket } from './socket'

/** Connections a server keeps accepted but not yet taken before it stops accepting. */
const ACCEPT_HIGH_WATER = 128

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
