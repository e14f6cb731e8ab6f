// The node:fs backend: the same operations on libuv's thread pool. Used where io_uring is not
// available, when asked for, and for single ops the kernel does not support.
import * as fs from 'node:fs'
import { type Backend, type Owner, type RingStats, type Shape, shaped } from './backend'
import { AbortError, ringClosed } from './errors'
import { copyOut, dest, extent, shared, source, sources } from './owned'
import type { Row } from './ops'

type Cb<T> = (err: NodeJS.ErrnoException | null, v: T) => void

export class NodeBackend implements Backend {
  readonly kind = 'node' as const
  readonly mode = 'node'
  private submitted = 0
  private completed = 0
  private inFlight = 0
  private closed = false
  private onIdle: (() => void) | undefined

  /**
   * Runs one node:fs call, counting it, and settles with `map(result)`. With a `signal` that has
   * aborted by the time the call completes, it rejects with an AbortError instead (thread-pool
   * work cannot be stopped), closing the fd an open returned.
   */
  private run<T, R>(syscall: string, call: (cb: Cb<T>) => void, map: (v: T) => R, owner?: Owner, signal?: AbortSignal): Promise<R> {
    if (this.closed) {
      owner?.release()
      return Promise.reject(ringClosed(syscall))
    }
    return new Promise<R>((resolve, reject) => {
      const done = (err: NodeJS.ErrnoException | null, v: T): void => {
        this.completed++
        this.inFlight--
        owner?.release()
        if (signal?.aborted) {
          if (syscall === 'open' && !err) fs.close(v as number, () => {})
          reject(new AbortError(undefined, { cause: signal.reason }))
        } else if (err) reject(err)
        else resolve(map(v))
        if (this.inFlight === 0 && this.onIdle) this.onIdle()
      }
      try {
        call(done)
      } catch (e) {
        // node:fs refused the arguments synchronously: the op never started.
        owner?.release()
        throw e
      }
      this.submitted++
      this.inFlight++
    })
  }

  // Caller memory is used in place only where nothing can take it away (see owned.ts).
  read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal, fresh?: boolean): Promise<any> {
    const pos = position < 0 ? null : position
    if (fresh === true || shared(buffer)) {
      return this.run<number, any>(
        'read',
        (cb) => fs.read(fd, buffer, offset, length, pos, cb),
        (n) => shaped(shape, n, buffer),
        owner,
        signal,
      )
    }
    const own = Buffer.allocUnsafeSlow(length)
    const to = dest(buffer, offset, length)
    return this.run<number, any>(
      'read',
      (cb) => fs.read(fd, own, 0, length, pos, cb),
      (n) => (copyOut(own, n, to), shaped(shape, n, buffer)),
      owner,
      signal,
    )
  }

  write(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    return this.run<number, any>(
      'write',
      (cb) => fs.write(fd, source(buffer, offset, length), 0, length, position < 0 ? null : position, cb),
      (n) => shaped(shape, n, buffer),
      owner,
      signal,
    )
  }

  readv(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    const pos = position < 0 ? null : position
    if (buffers.every(shared)) {
      return this.run<number, any>(
        'read',
        (cb) => fs.readv(fd, buffers, pos, cb),
        (n) => shaped(shape, n, buffers),
        owner,
        signal,
      )
    }
    const to = buffers.map((b) => dest(b, 0, extent(b).length))
    const own = Buffer.allocUnsafeSlow(to.reduce((a, d) => a + d.length, 0))
    // As many iovecs as the caller's (libuv picks read(2) for one, preadv(2) for more, which answer
    // differently for no bytes on a directory), over one allocation.
    let at = 0
    const iov = to.map((d) => own.subarray(at, (at += d.length)))
    return this.run<number, any>(
      'read',
      (cb) => fs.readv(fd, iov, pos, cb),
      (n) => (copyOut(own, n, ...to), shaped(shape, n, buffers)),
      owner,
      signal,
    )
  }

  writev(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    return this.run<number, any>(
      'write',
      (cb) => fs.writev(fd, sources(buffers), position < 0 ? null : position, cb),
      (n) => shaped(shape, n, buffers),
      owner,
      signal,
    )
  }

  open(path: string | Buffer, flags: number, mode: number, signal?: AbortSignal): Promise<number> {
    return this.run<number, number>(
      'open',
      (cb) => fs.open(path, flags, mode, cb),
      (fd) => fd,
      undefined,
      signal,
    )
  }

  closeSync(fd: number): void {
    fs.closeSync(fd)
  }

  close(fd: number, signal?: AbortSignal): Promise<void> {
    return this.run<void, void>(
      'close',
      (cb) => fs.close(fd, (e) => cb(e, undefined)),
      () => undefined,
      undefined,
      signal,
    )
  }

  stat(path: string | Buffer, follow: boolean, signal?: AbortSignal): Promise<fs.Stats> {
    return this.run<fs.Stats, fs.Stats>(
      follow ? 'stat' : 'lstat',
      (cb) => (follow ? fs.stat : fs.lstat)(path, cb),
      (s) => s,
      undefined,
      signal,
    )
  }

  fstat(fd: number, owner?: Owner, signal?: AbortSignal): Promise<fs.Stats> {
    return this.run<fs.Stats, fs.Stats>(
      'fstat',
      (cb) => fs.fstat(fd, cb),
      (s) => s,
      owner,
      signal,
    )
  }

  call(row: Row, a: readonly unknown[], owner?: Owner, signal?: AbortSignal): Promise<void> {
    return this.run<void, void>(
      row.syscall,
      (cb) => row.node(a, (e) => cb(e, undefined)),
      () => undefined,
      owner,
      signal,
    )
  }

  callErrno(row: Row, a: readonly unknown[]): Promise<number> {
    return this.run<number, number>(
      row.syscall,
      (cb) => row.node(a, (e) => (e && typeof e.errno === 'number' && e.errno < 0 ? cb(null, e.errno) : cb(e, 0))),
      (r) => r,
    )
  }

  delegate<R>(syscall: string, call: () => Promise<R>, owner?: Owner): Promise<R> {
    return this.run<R, R>(
      syscall,
      (cb) => {
        call().then(
          (v) => cb(null, v),
          (e) => cb(e, undefined as R),
        )
      },
      (v) => v,
      owner,
    )
  }

  nop(signal?: AbortSignal): Promise<number> {
    return this.run<number, number>(
      'nop',
      (cb) => setImmediate(cb, null, 0),
      (n) => n,
      undefined,
      signal,
    )
  }

  stats(): RingStats {
    const { submitted, completed, inFlight } = this
    return { submitted, completed, enterCalls: 0, inFlight, queued: 0, cqOverflows: 0, sqWakeups: 0, fallbackOps: 0, registeredBytes: 0, fixedOps: 0, ownReads: 0, ownSends: 0, executedOps: 0 }
  }

  /** Thread-pool ops cannot be cancelled: closing waits for them to finish. */
  async close_(): Promise<void> {
    this.closed = true
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.onIdle = resolve))
  }
}
