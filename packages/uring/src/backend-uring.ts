// The io_uring backend: each op is pushed into the native ring and gets a token; completions come
// back in batches through `complete(n)`, which settles the promises in one pass.
import type { Stats } from 'node:fs'
import type { NativeRing as NativeRingT } from '../binding'
import type { NativeBinding } from './native'
import { type Backend, type Owner, type RingStats, Shape, shaped } from './backend'
import { NodeBackend } from './backend-node'
import { ringClosed, systemError } from './errors'
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, STATX_MASK, STATX_SIZE, statsFromStatx } from './stats'

/** Completions delivered per JS call (each is [token, result, flags]). */
const BATCH = 1024
const AT_REMOVEDIR = 0x200
/** Internal result shapes beyond the public ones. */
const VOID = 100
const STAT = 101

export interface NativeOptions {
  entries: number
  sqpollIdleMs?: number
  sqpollCpu?: number
}

export class UringBackend implements Backend {
  readonly kind = 'io_uring' as const
  readonly mode: string
  private readonly native: NativeRingT
  private readonly comp = new Int32Array(3 * BATCH)
  private readonly onComplete = (n: number): void => this.complete(n)
  // Per-token state, in parallel arrays indexed by the native token (slot index).
  private readonly resolves: Array<((v: any) => void) | undefined> = []
  private readonly rejects: Array<((e: unknown) => void) | undefined> = []
  private readonly shapes: number[] = []
  private readonly args: unknown[] = []
  private readonly syscalls: string[] = []
  private readonly paths: Array<string | Buffer | undefined> = []
  private readonly dests: Array<string | Buffer | undefined> = []
  private readonly owners: Array<Owner | undefined> = []
  private readonly supported: Set<string>
  private fallback: NodeBackend | undefined
  private fallbackOps = 0
  private inFlight = 0
  private closed = false
  private closing: Promise<void> | undefined
  private onIdle: (() => void) | undefined

  private readonly id: number
  private readonly ringRead: NativeBinding['ringRead']
  private readonly ringWrite: NativeBinding['ringWrite']
  /** read/write are supported (checked per op, so kept out of the Set). */
  private readonly rw: boolean

  constructor(binding: NativeBinding, opts: NativeOptions) {
    const { NativeRing } = binding
    // The binding holds `onComplete` weakly while the ring is idle (so an unused ring can be
    // collected); this field is what keeps it alive as long as the backend is.
    this.native = new NativeRing(opts.entries, opts.sqpollIdleMs ?? null, opts.sqpollCpu ?? null, this.onComplete, this.comp)
    this.mode = this.native.mode
    this.supported = new Set(this.native.supportedOps)
    this.id = this.native.id
    this.ringRead = binding.ringRead
    this.ringWrite = binding.ringWrite
    this.rw = this.supported.has('read') && this.supported.has('write')
  }

  private complete(n: number): void {
    const c = this.comp
    for (let i = 0; i < n; i++) {
      const t = c[3 * i]
      const r = c[3 * i + 1]
      const resolve = this.resolves[t]!
      const reject = this.rejects[t]!
      const shape = this.shapes[t]
      const arg = this.args[t]
      this.resolves[t] = undefined
      this.rejects[t] = undefined
      this.args[t] = undefined
      this.inFlight--
      const owner = this.owners[t]
      if (owner !== undefined) {
        this.owners[t] = undefined
        owner.release()
      }
      const path = this.paths[t]
      let dest: string | Buffer | undefined
      if (path !== undefined) {
        dest = this.dests[t]
        this.paths[t] = undefined
        this.dests[t] = undefined
      }
      if (r < 0) reject(systemError(r, this.syscalls[t], path, dest))
      else if (shape === VOID) resolve(undefined)
      else if (shape === STAT) resolve(statsFromStatx(arg as Uint8Array))
      else resolve(shaped(shape, r, arg))
    }
    if (this.inFlight === 0 && this.onIdle) this.onIdle()
  }

  private track(t: number, resolve: (v: any) => void, reject: (e: unknown) => void, shape: number, arg: unknown, syscall: string, owner: Owner | undefined, path?: string | Buffer, dest?: string | Buffer): void {
    if (owner !== undefined) this.owners[t] = owner
    this.resolves[t] = resolve
    this.rejects[t] = reject
    this.shapes[t] = shape
    this.args[t] = arg
    this.syscalls[t] = syscall
    if (path !== undefined) this.paths[t] = path
    if (dest !== undefined) this.dests[t] = dest
    this.inFlight++
  }

  private node(): NodeBackend {
    this.fallbackOps++
    return (this.fallback ??= new NodeBackend())
  }

  read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner): Promise<any> {
    const g = this.gone('read'); if (g) return g
    if (!this.rw) return this.node().read(fd, buffer, offset, length, position, shape, owner)
    return new Promise((resolve, reject) => {
      this.track(this.ringRead(this.id, fd, buffer, offset, length, position), resolve, reject, shape, buffer, 'read', owner)
    })
  }

  write(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner): Promise<any> {
    const g = this.gone('write'); if (g) return g
    if (!this.rw) return this.node().write(fd, buffer, offset, length, position, shape, owner)
    return new Promise((resolve, reject) => {
      this.track(this.ringWrite(this.id, fd, buffer, offset, length, position), resolve, reject, shape, buffer, 'write', owner)
    })
  }

  readv(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner): Promise<any> {
    const g = this.gone('read'); if (g) return g
    if (!this.supported.has('readv')) return this.node().readv(fd, buffers, position, shape, owner)
    return new Promise((resolve, reject) => {
      this.track(this.native.readv(fd, buffers, position), resolve, reject, shape, buffers, 'read', owner)
    })
  }

  writev(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner): Promise<any> {
    const g = this.gone('write'); if (g) return g
    if (!this.supported.has('writev')) return this.node().writev(fd, buffers, position, shape, owner)
    return new Promise((resolve, reject) => {
      this.track(this.native.writev(fd, buffers, position), resolve, reject, shape, buffers, 'write', owner)
    })
  }

  private simple(syscall: string, shape: number, arg: unknown, path: string | Buffer | undefined, dest: string | Buffer | undefined, start: () => number, owner?: Owner): Promise<any> {
    return new Promise((resolve, reject) => {
      this.track(start(), resolve, reject, shape, arg, syscall, owner, path, dest)
    })
  }

  /** A closed ring rejects new ops, whichever engine would have run them. */
  private gone(syscall: string): Promise<never> | undefined {
    return this.closed ? Promise.reject(ringClosed(syscall)) : undefined
  }

  open(path: string | Buffer, flags: number, mode: number): Promise<number> {
    const g = this.gone('open'); if (g) return g
    if (!this.supported.has('openat')) return this.node().open(path, flags, mode)
    return this.simple('open', Shape.Number, undefined, path, undefined, () => this.native.openat(path, flags, mode))
  }

  close(fd: number): Promise<void> {
    const g = this.gone('close'); if (g) return g
    if (!this.supported.has('close')) return this.node().close(fd)
    return this.simple('close', VOID, undefined, undefined, undefined, () => this.native.close(fd))
  }

  stat(path: string | Buffer, follow: boolean): Promise<Stats> {
    const g = this.gone(follow ? 'stat' : 'lstat'); if (g) return g
    if (!this.supported.has('statx')) return this.node().stat(path, follow)
    const out = new Uint8Array(STATX_SIZE)
    const flags = follow ? 0 : AT_SYMLINK_NOFOLLOW
    return this.simple(follow ? 'stat' : 'lstat', STAT, out, path, undefined, () => this.native.statx(-1, path, flags, STATX_MASK, out))
  }

  fstat(fd: number, owner?: Owner): Promise<Stats> {
    const g = this.gone('fstat'); if (g) return g
    if (!this.supported.has('statx')) return this.node().fstat(fd, owner)
    const out = new Uint8Array(STATX_SIZE)
    return this.simple('fstat', STAT, out, undefined, undefined, () => this.native.statx(fd, '', AT_EMPTY_PATH, STATX_MASK, out), owner)
  }

  fsync(fd: number, datasync: boolean, owner?: Owner): Promise<void> {
    const g = this.gone(datasync ? 'fdatasync' : 'fsync'); if (g) return g
    if (!this.supported.has('fsync')) return this.node().fsync(fd, datasync, owner)
    return this.simple(datasync ? 'fdatasync' : 'fsync', VOID, undefined, undefined, undefined, () => this.native.fsync(fd, datasync), owner)
  }

  ftruncate(fd: number, length: number, owner?: Owner): Promise<void> {
    // IORING_OP_FTRUNCATE (6.9) is not in the io-uring crate yet: always node:fs.
    const g = this.gone('ftruncate'); if (g) return g
    return this.node().ftruncate(fd, length, owner)
  }

  unlink(path: string | Buffer): Promise<void> {
    const g = this.gone('unlink'); if (g) return g
    if (!this.supported.has('unlinkat')) return this.node().unlink(path)
    return this.simple('unlink', VOID, undefined, path, undefined, () => this.native.unlinkat(path, 0))
  }

  rmdir(path: string | Buffer): Promise<void> {
    const g = this.gone('rmdir'); if (g) return g
    if (!this.supported.has('unlinkat')) return this.node().rmdir(path)
    return this.simple('rmdir', VOID, undefined, path, undefined, () => this.native.unlinkat(path, AT_REMOVEDIR))
  }

  mkdir(path: string | Buffer, mode: number): Promise<void> {
    const g = this.gone('mkdir'); if (g) return g
    if (!this.supported.has('mkdirat')) return this.node().mkdir(path, mode)
    return this.simple('mkdir', VOID, undefined, path, undefined, () => this.native.mkdirat(path, mode))
  }

  rename(oldPath: string | Buffer, newPath: string | Buffer): Promise<void> {
    const g = this.gone('rename'); if (g) return g
    if (!this.supported.has('renameat')) return this.node().rename(oldPath, newPath)
    return this.simple('rename', VOID, undefined, oldPath, newPath, () => this.native.renameat(oldPath, newPath))
  }

  nop(): Promise<number> {
    const g = this.gone('nop'); if (g) return g
    return this.simple('nop', Shape.Number, undefined, undefined, undefined, () => this.native.nop())
  }

  stats(): RingStats {
    // After close, the counters as they stood when the ring was freed.
    const n = this.final ?? this.native.stats()
    const f = this.fallback?.stats()
    return {
      submitted: n.submitted + (f?.submitted ?? 0),
      completed: n.completed + (f?.completed ?? 0),
      enterCalls: n.enterCalls,
      inFlight: n.inFlight + (f?.inFlight ?? 0),
      queued: n.queued,
      cqOverflows: n.cqOverflows,
      sqWakeups: n.sqWakeups,
      fallbackOps: this.fallbackOps,
    }
  }

  private final: Omit<RingStats, 'fallbackOps'> | undefined

  close_(): Promise<void> {
    this.closed = true
    this.closing ??= (async () => {
      if (this.inFlight > 0) {
        const idle = new Promise<void>((resolve) => (this.onIdle = resolve))
        this.native.cancelAll()
        await idle
      }
      this.onIdle = undefined
      this.final = this.native.stats()
      this.native.destroy()
      if (this.fallback) await this.fallback.close_()
    })()
    return this.closing
  }
}
