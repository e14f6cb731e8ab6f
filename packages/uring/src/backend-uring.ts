// The io_uring backend: each op is pushed into the native ring and gets a token; completions come
// back in batches to the Settler (settle.ts), which settles their promises in one pass.
import type { Stats } from 'node:fs'
import type { NativeRing as NativeRingT } from '../binding'
import type { NativeBinding } from './native'
import { type Backend, type OpenedRead, type Owner, type RingMode, type RingStats, Shape, shaped, type SocketRing } from './backend'
import { NodeBackend } from './backend-node'
import type { OpName } from './op-names'
import { EXECUTOR_ONLY, K, pathsOf, type Row } from './ops'
import { ringClosed, systemError, UV } from './errors'
import { ERRNO, Settler, SLOT_CLOSED, STAT, VOID } from './settle'
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, STATX_MASK, STATX_SIZE } from './stats'
import { byteLength } from './owned'
import { ReadBuffers } from './read-buffers'

/** Completions delivered per JS call (each is [token, result, flags]). */
const BATCH = 1024
/** Most buffers one preadv takes (Linux UIO_MAXIOV), as libuv caps a read. */
const IOV_MAX = 1024
/** Ops in a readFile or writeFile chain. */
const CHAIN_OPS = 3
/** The largest writeFile written by one chain (Node's writeFile writes in chunks of this size). */
const CHAIN_WRITE_MAX = 512 * 1024
export interface NativeOptions {
  entries: number
  sqpollIdleMs?: number
  sqpollCpu?: number
  submitThread?: boolean
  /** Slots of the ring's registered file table (chained readFile/writeFile open into them). */
  files?: number
}

type HotFn = ReturnType<NativeRingT['hot']>[0]

export class UringBackend implements Backend, SocketRing {
  readonly kind = 'io_uring' as const
  readonly mode: RingMode
  private readonly native: NativeRingT
  private readonly comp = new Int32Array(3 * BATCH)
  private readonly onComplete = (n: number): void => this.s.complete(n)
  /** The JS side of the ops in flight (settle.ts). */
  private readonly s = new Settler(
    this.comp,
    (t) => {
      if (!this.closed) this.native.cancel(t)
    },
    (fd) => void this.close(fd).catch(() => {}),
    new Uint8Array(STATX_SIZE * BATCH),
  )
  /** First-read buffers of chained readFiles, for reuse. */
  private readonly readBuffers = new ReadBuffers()
  /** The opcodes the kernel's probe reported (`OP_NAMES` of the ones the engine uses). */
  private readonly supported: Set<OpName>
  private fallback: NodeBackend | undefined
  private fallbackOps = 0
  private closed = false
  private closing: Promise<void> | undefined

  /** `(fd, buffer, offset, length, position) => token`, bound to this ring. */
  private readonly ringRead: HotFn
  private readonly ringWrite: HotFn
  /** The readFile chain and a slot's close, bound to this ring; the chain's tokens come in `chainTokens`. */
  private readonly readFileChain: ReturnType<NativeRingT['chainHot']>[0]
  private readonly slotClose: ReturnType<NativeRingT['chainHot']>[1]
  private readonly writeFileChain: ReturnType<NativeRingT['chainHot']>[2]
  private readonly chainTokens = new Int32Array(CHAIN_OPS)
  /** `(fd, path, flags, mask) => token`: statx, its result in the stat area (settle.ts). */
  private readonly ringStat: ReturnType<NativeRingT['statHot']>
  /** read/write are supported (checked per op, so kept out of the Set). */
  private readonly rw: boolean
  /** SQ size asked for: the longest chain that can enter the SQ whole. */
  private readonly entries: number

  constructor(binding: NativeBinding, opts: NativeOptions) {
    const { NativeRing } = binding
    // The binding holds `onComplete` weakly while the ring is idle (so an unused ring can be
    // collected); this field is what keeps it alive as long as the backend is.
    this.native = new NativeRing({ entries: opts.entries, sqpollIdleMs: opts.sqpollIdleMs, sqpollCpu: opts.sqpollCpu, submitter: opts.submitThread, files: opts.files }, this.onComplete, this.comp)
    this.native.statArea(this.s.statArea)
    this.ringStat = this.native.statHot()
    ;[this.readFileChain, this.slotClose, this.writeFileChain] = this.native.chainHot()
    this.mode = this.native.mode as RingMode
    this.entries = opts.entries
    this.supported = new Set(this.native.supportedOps as OpName[])
    const [read, write] = this.native.hot()
    this.ringRead = read
    this.ringWrite = write
    this.rw = this.supported.has('read') && this.supported.has('write')
    // Chains of readFile/writeFile are 3 ops: they need an SQ that holds them together.
    if (opts.entries >= CHAIN_OPS && (['openat', 'read', 'write', 'close'] as const).every((op) => this.supported.has(op))) {
      for (let i = this.native.files - 1; i >= 0; i--) this.s.freeSlots.push(i)
    }
  }

  /** An op the native ring refused synchronously (bad argument): it never started. */
  private refused(e: unknown, owner: Owner | undefined): Promise<never> {
    owner?.release()
    return Promise.reject(e)
  }

  /** node:fs for an op the kernel lacks (counted in fallbackOps). */
  private node(): NodeBackend {
    this.fallbackOps++
    return this.nodeFs()
  }

  private nodeFs(): NodeBackend {
    return (this.fallback ??= new NodeBackend())
  }

  read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal, fresh?: boolean): Promise<any> {
    if (this.closed) return this.gone('read', owner)
    if (!this.rw) return this.node().read(fd, buffer, offset, length, position, shape, owner, signal)
    if (length === 0) {
      // As node:fs's read: nothing asked, no syscall (even on an fd not open for reading).
      owner?.release()
      return Promise.resolve(shaped(shape, 0, buffer))
    }
    return this.hot(this.ringRead, fd, buffer, offset, length, position, shape | K.read, owner, signal, fresh)
  }

  write(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    if (this.closed) return this.gone('write', owner)
    if (!this.rw) return this.node().write(fd, buffer, offset, length, position, shape, owner, signal)
    if (position < 0) return this.atPosition(fd, owner, (o) => this.hot(this.ringWrite, fd, buffer, offset, length, position, shape | K.write, o, signal))
    return this.hot(this.ringWrite, fd, buffer, offset, length, position, shape | K.write, owner, signal)
  }

  /** Ops pushed now join a chain (`chain`): they start at once, in order. */
  private linking = false

  /** Writes at the file position waiting, per fd, for the one in flight (see `atPosition`). */
  private readonly positioned = new Map<number, Array<() => void>>()

  /**
   * Starts a write at the file position of `fd` once no other is in flight on it. write(2) moves
   * the position atomically, so Node's concurrent writes at null never overlap; io_uring reads
   * it when a write starts and, after a short write, leaves it unmoved until the binding moves
   * it at completion (uring_core::quirks) — writes started meanwhile would land on the same
   * bytes (a batch of writes at null on a full disk reported bytes that were overwritten).
   */
  private atPosition(fd: number, owner: Owner | undefined, start: (owner: Owner | undefined) => Promise<any>): Promise<any> {
    // In a chain the kernel runs the ops in order, and a short write cancels the rest: no overlap.
    if (this.linking) return start(owner)
    const done: Owner = {
      release: () => {
        owner?.release()
        const waiting = this.positioned.get(fd)
        const next = waiting?.shift()
        // After the completion batch (or the refusal) that released this one: never mid-batch,
        // where a token being settled could be reused.
        if (next !== undefined) queueMicrotask(next)
        else this.positioned.delete(fd)
      },
    }
    const waiting = this.positioned.get(fd)
    if (waiting === undefined) {
      this.positioned.set(fd, [])
      return start(done)
    }
    return new Promise((resolve, reject) => waiting.push(() => start(done).then(resolve, reject)))
  }

  /** Starts a read or write through the ring's bound native function (no closure per op). */
  private hot(
    fn: HotFn,
    fd: number,
    buffer: NodeJS.ArrayBufferView,
    offset: number,
    length: number,
    position: number,
    kind: number,
    owner: Owner | undefined,
    signal: AbortSignal | undefined,
    fresh?: boolean,
  ): Promise<any> {
    let t: number
    try {
      t = fn(fd, buffer, offset, length, position, fresh)
    } catch (e) {
      return this.refused(e, owner)
    }
    return this.s.track(t, kind, buffer, owner, signal)
  }

  readv(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    if (this.closed) return this.gone('read', owner)
    if (!this.supported.has('readv')) return this.node().readv(fd, buffers, position, shape, owner, signal)
    // libuv refuses a read of no buffers (UV_EINVAL) before any syscall; io_uring would complete it with 0.
    if (buffers.length === 0) return this.refused(systemError(UV.EINVAL, 'read'), owner)
    // Views of no bytes: io_uring completes the read with 0 without asking the file, where preadv
    // does (a directory: EISDIR). Rare, so the syscall's answer is node:fs's.
    if (buffers.every((b) => byteLength(b) === 0)) return this.node().readv(fd, buffers, position, shape, owner, signal)
    // As libuv: one preadv of the first IOV_MAX buffers, a short read (the io_uring op reads into
    // one span of its own, so it would take them all; the node backend would not).
    const iov = buffers.length > IOV_MAX ? buffers.slice(0, IOV_MAX) : buffers
    return this.op(shape | K.read, iov, owner, undefined, undefined, () => this.native.readv(fd, iov, position), signal)
  }

  writev(fd: number, buffers: NodeJS.ArrayBufferView[], position: number, shape: Shape, owner?: Owner, signal?: AbortSignal): Promise<any> {
    if (this.closed) return this.gone('write', owner)
    if (!this.supported.has('writev')) return this.node().writev(fd, buffers, position, shape, owner, signal)
    // node:fs answers a writev of no buffers with 0 at once, without a syscall (fs.writev, fh.writev).
    if (buffers.length === 0) {
      owner?.release()
      return Promise.resolve(shaped(shape, 0, buffers))
    }
    if (position < 0) return this.atPosition(fd, owner, (o) => this.op(shape | K.write, buffers, o, undefined, undefined, () => this.native.writev(fd, buffers, position), signal))
    return this.op(shape | K.write, buffers, owner, undefined, undefined, () => this.native.writev(fd, buffers, position), signal)
  }

  /** Starts an op that is not on the hot path. */
  private op(kind: number, arg: unknown, owner: Owner | undefined, path: string | Buffer | undefined, dest: string | Buffer | undefined, start: () => number, signal?: AbortSignal): Promise<any> {
    let t: number
    try {
      t = start()
    } catch (e) {
      return this.refused(e, owner)
    }
    if (path !== undefined) {
      this.s.paths[t] = path
      if (dest !== undefined) this.s.dests[t] = dest
    }
    return this.s.track(t, kind, arg, owner, signal)
  }

  /** A closed ring rejects new ops, whichever engine would have run them. */
  private gone(syscall: string, owner?: Owner): Promise<never> {
    return this.refused(ringClosed(syscall), owner)
  }

  open(path: string | Buffer, flags: number, mode: number, signal?: AbortSignal): Promise<number> {
    if (this.closed) return this.gone('open')
    if (!this.supported.has('openat')) return this.node().open(path, flags, mode, signal)
    return this.op(Shape.Number | K.open, undefined, undefined, path, undefined, () => this.native.openat(path, flags, mode), signal)
  }

  close(fd: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return this.gone('close')
    if (!this.supported.has('close')) {
      // Forgotten before the close is issued: once closed, the number can be reused at once.
      this.disown(fd)
      return this.node().close(fd, signal)
    }
    // The native close forgets the fd as it issues the close.
    return this.op(VOID | K.close, undefined, undefined, undefined, undefined, () => this.native.close(fd), signal)
  }

  stat(path: string | Buffer, follow: boolean, signal?: AbortSignal): Promise<Stats> {
    const syscall = follow ? 'stat' : 'lstat'
    if (this.closed) return this.gone(syscall)
    if (!this.supported.has('statx')) return this.node().stat(path, follow, signal)
    return this.statx(-1, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, STAT | K[syscall], undefined, signal)
  }

  fstat(fd: number, owner?: Owner, signal?: AbortSignal): Promise<Stats> {
    if (this.closed) return this.gone('fstat', owner)
    if (!this.supported.has('statx')) return this.node().fstat(fd, owner, signal)
    return this.statx(fd, '', AT_EMPTY_PATH, STAT | K.fstat, owner, signal)
  }

  /** A statx op (`op` without its closure: stat is a hot path); its Stats come from the stat area. */
  private statx(fd: number, path: string | Buffer, flags: number, kind: number, owner: Owner | undefined, signal?: AbortSignal): Promise<Stats> {
    let t: number
    try {
      t = this.ringStat(fd, path, flags, STATX_MASK)
    } catch (e) {
      return this.refused(e, owner)
    }
    if (fd < 0) this.s.paths[t] = path
    return this.s.track(t, kind, undefined, owner, signal)
  }

  call(row: Row, a: readonly unknown[], owner?: Owner, signal?: AbortSignal): Promise<void> {
    if (this.closed) return this.gone(row.syscall, owner)
    if (!this.supported.has(row.opcode)) return (EXECUTOR_ONLY.has(row.opcode) ? this.nodeFs() : this.node()).call(row, a, owner, signal)
    if (row.asSyscall?.(a)) return this.nodeFs().call(row, a, owner, signal)
    const [path, dest] = pathsOf(row, a)
    return this.op(VOID | K[row.syscall], undefined, owner, path, dest, () => row.uring(this.native, a), signal)
  }

  callErrno(row: Row, a: readonly unknown[]): Promise<number> {
    if (this.closed) return this.gone(row.syscall)
    if (!this.supported.has(row.opcode)) return this.node().callErrno(row, a)
    if (row.asSyscall?.(a)) return this.nodeFs().callErrno(row, a)
    return this.op(ERRNO | VOID | K[row.syscall], undefined, undefined, undefined, undefined, () => row.uring(this.native, a))
  }

  delegate<R>(syscall: string, call: () => Promise<R>, owner?: Owner): Promise<R> {
    // Not a fallback: no kernel has an opcode for these, so fallbackOps does not count them.
    if (this.closed) return this.gone(syscall, owner)
    return this.nodeFs().delegate(syscall, call, owner)
  }

  /** Closes a file-table slot, with no promise: the slot is reused once the close completed. */
  private dropSlot(slot: number): void {
    let t: number
    try {
      t = this.slotClose(slot)
    } catch {
      return // the ring is gone, and its file table with it
    }
    this.s.kinds[t] = SLOT_CLOSED
    this.s.args[t] = slot
    this.s.inFlight++
  }

  /** Closes a file-table slot; the slot is reused once the close has completed. */
  private closeSlot(slot: number): Promise<void> {
    let t: number
    try {
      t = this.slotClose(slot)
    } catch {
      return Promise.resolve() // the ring is gone, and its file table with it
    }
    return this.s.group([t], ([r]) => {
      this.s.freeSlots.push(slot)
      if (r < 0) throw systemError(r, 'close')
    })
  }

  /**
   * A read of a file-table slot at its file position, into a buffer of readRest's own (direct:
   * no user code has seen it), or a write of `length` bytes of `buffer` from `offset` at file
   * offset `at` (never the position: a short write there leaves it unmoved; see
   * `uring_core::quirks`).
   */
  private slotIo(write: boolean, slot: number, buffer: Uint8Array, offset: number, length: number, at = -1): Promise<number> {
    if (this.closed) return this.gone(write ? 'write' : 'read')
    let t: number
    try {
      t = write ? this.native.writeSlot(slot, buffer, offset, length, at) : this.native.readSlot(slot, buffer, offset, length, -1, true)
    } catch (e) {
      return Promise.reject(e)
    }
    return this.s.group([t], ([r]) => {
      if (r < 0) throw systemError(r, write ? 'write' : 'read')
      return r
    })
  }

  scandir(path: string | Buffer, buffers: boolean): Promise<[string[] | Buffer[], Uint8Array]> | undefined {
    if (this.closed || !this.supported.has('readdir')) return undefined
    // Throws only for what the caller has checked (a NUL in the path); its caller rejects then.
    const t = this.native.readdir(path)
    return this.s.group([t], ([r]) => {
      if (r < 0) throw systemError(r, 'scandir', path)
      return this.native.takeListing(t, buffers) as [string[] | Buffer[], Uint8Array]
    })
  }

  readFile(path: string | Buffer, flags: number, more: (f: OpenedRead) => Promise<Buffer>): Promise<Buffer> | undefined {
    if (this.closed) return undefined
    const slot = this.s.freeSlots.pop()
    if (slot === undefined) return undefined
    const a = this.readBuffers.take()
    const b = this.readBuffers.take()
    const tokens = this.chainTokens
    try {
      this.readFileChain(path, flags, slot, a, b, tokens)
    } catch (e) {
      this.s.freeSlots.push(slot)
      this.readBuffers.give(a, b)
      return Promise.reject(e)
    }
    return this.s.group<Buffer>(tokens, ([opened, first, second]) => {
      if (opened < 0) {
        this.s.freeSlots.push(slot)
        this.readBuffers.give(a, b)
        throw systemError(opened, 'open', path)
      }
      const bytes = Buffer.allocUnsafe(Math.max(first, 0))
      a.copy(bytes, 0, 0, bytes.length)
      let rest: Buffer | undefined
      if (second > 0) {
        rest = Buffer.allocUnsafe(second)
        b.copy(rest, 0, 0, second)
      }
      this.readBuffers.give(a, b)
      const failed = first < 0 ? first : second
      if (failed < 0 || second === 0) {
        // A read that returns 0 has reached the end, whatever kind of file this is.
        this.dropSlot(slot)
        if (failed < 0) throw systemError(failed, 'read')
        return bytes
      }
      return this.openedRead(path, slot, rest === undefined ? bytes : Buffer.concat([bytes, rest])).then(more)
    })
  }

  /** A chained readFile's file, left open in `slot` with more to read. */
  private async openedRead(path: string | Buffer, slot: number, bytes: Buffer): Promise<OpenedRead> {
    // The size only lets the reader allocate once: it reads on to the end regardless.
    const size = await this.stat(path, true).then(
      (st) => (st.isFile() ? st.size : 0),
      () => 0,
    )
    return {
      bytes,
      size,
      read: (buf: Buffer, offset: number, length: number) => this.slotIo(false, slot, buf, offset, length),
      close: () => this.closeSlot(slot),
    }
  }

  writeFile(path: string | Buffer, flags: number, mode: number, data: Uint8Array): Promise<void> | undefined {
    // The chain's write copies `data` into memory of its own: beyond a chunk of Node's writeFile
    // loop, the step-by-step path copies chunk by chunk instead of all at once.
    if (this.closed || data.byteLength > CHAIN_WRITE_MAX) return undefined
    const slot = this.s.freeSlots.pop()
    if (slot === undefined) return undefined
    const tokens = this.chainTokens
    try {
      this.writeFileChain(path, flags, mode, slot, data, 0, data.byteLength, tokens)
    } catch (e) {
      this.s.freeSlots.push(slot)
      return Promise.reject(e)
    }
    return this.s.group(tokens, ([opened, wrote, closed]) => {
      if (opened < 0) {
        this.s.freeSlots.push(slot)
        throw systemError(opened, 'open', path)
      }
      if (closed !== UV.ECANCELED) {
        this.s.freeSlots.push(slot)
        if (closed < 0) throw systemError(closed, 'close')
        return
      }
      // The write failed or was short, which stops the chain before its close.
      if (wrote < 0) {
        this.dropSlot(slot)
        throw systemError(wrote, 'write')
      }
      return this.writeSlotRest(slot, data, wrote)
    })
  }

  /** Writes `data` from `offset` on to a slot (after a short write), then closes the slot. */
  private async writeSlotRest(slot: number, data: Uint8Array, offset: number): Promise<void> {
    try {
      // The chain wrote at file offset 0 (the end with O_APPEND, where offsets are ignored).
      while (offset < data.byteLength) offset += await this.slotIo(true, slot, data, offset, data.byteLength - offset, offset)
    } catch (e) {
      this.dropSlot(slot)
      throw e
    }
    await this.closeSlot(slot)
  }

  /**
   * A socket op with one completion (socket, bind, listen, connect, accept, shutdown, send):
   * resolves to its result, rejects with a system error naming `syscall`.
   */
  netCall(syscall: 'socket' | 'bind' | 'listen' | 'connect' | 'accept' | 'shutdown' | 'write' | 'read' | 'close', start: (native: NativeRingT) => number, signal?: AbortSignal): Promise<number> {
    if (this.closed) return this.gone(syscall)
    return this.op(Shape.Number | K[syscall], undefined, undefined, undefined, undefined, () => start(this.native), signal)
  }

  /**
   * An op with many completions (multishot accept or recv, zero-copy send): `on(result, flags)`
   * runs for each; the last has no F_MORE (2). Returns its token (for `cancel`). Throws when the
   * ring is closed or the binding refuses the op.
   */
  netStream(start: (native: NativeRingT) => number, on: (r: number, flags: number) => void): number {
    if (this.closed) throw ringClosed('recv')
    const t = start(this.native)
    this.s.handlers[t] = on
    this.s.inFlight++
    return t
  }

  /** This ring runs sockets itself. */
  sockets(): SocketRing {
    return this
  }

  /** Asks op `t` to finish early (its completions still arrive). */
  cancelOp(t: number): void {
    if (!this.closed) this.native.cancel(t)
  }

  /** The native ring, for the socket layer's synchronous calls (provided buffers). */
  get nativeRing(): NativeRingT {
    return this.native
  }

  /** The ring's bound socket functions `[send, take]` (see the binding's `netHot`), made once. */
  get netHot(): ReturnType<NativeRingT['netHot']> {
    return (this.#netHot ??= this.native.netHot())
  }

  #netHot: ReturnType<NativeRingT['netHot']> | undefined

  /** Whether the kernel has an opcode (`'socket'`, `'bind'`, ...). */
  has(op: OpName): boolean {
    return this.supported.has(op)
  }

  nop(signal?: AbortSignal): Promise<number> {
    if (this.closed) return this.gone('nop')
    return this.op(Shape.Number | K.nop, undefined, undefined, undefined, undefined, () => this.native.nop(), signal)
  }

  settleAll(n: number, start: (i: number) => Promise<unknown>): Promise<PromiseSettledResult<unknown>[]> {
    return this.s.settleAll(n, start)
  }

  alone<R>(f: () => R): R {
    return this.s.alone(f)
  }

  chain(opcodes: readonly (OpName | undefined)[], start: () => Promise<unknown>[]): Promise<unknown>[] | undefined {
    if (this.closed || opcodes.length > this.entries) return undefined
    for (const op of opcodes) if (op === undefined || !this.supported.has(op) || EXECUTOR_ONLY.has(op)) return undefined
    const before = this.s.inFlight
    this.native.beginChain()
    let started: Promise<unknown>[]
    this.linking = true
    try {
      started = start()
    } catch (e) {
      this.native.abortChain()
      throw e
    } finally {
      this.linking = false
    }
    // A member the native ring refused never joined the chain: run none of it (the others
    // complete with ECANCELED) rather than a chain with a hole in it.
    if (this.s.inFlight - before !== opcodes.length) this.native.abortChain()
    else this.native.endChain()
    return started
  }

  stats(): RingStats {
    // After close, the counters as they stood when the ring was freed.
    const { executed, ...n } = this.final ?? this.native.stats()
    const f = this.fallback?.stats()
    // The native counters as they are, with node:fs's (ops run there) added where both count.
    return {
      ...n,
      submitted: n.submitted + (f?.submitted ?? 0),
      completed: n.completed + (f?.completed ?? 0),
      inFlight: n.inFlight + (f?.inFlight ?? 0),
      fallbackOps: this.fallbackOps,
      executedOps: executed,
    }
  }

  private final: ReturnType<NativeRingT['stats']> | undefined

  own(fd: number): void {
    try {
      this.native.ownFd(fd)
    } catch {
      // Destroyed ring: whoever holds the fd closes it through node:fs.
    }
  }

  private disown(fd: number): void {
    try {
      this.native.disownFd(fd)
    } catch {
      // Destroyed ring: it owns nothing any more.
    }
  }

  closeSync(fd: number): void {
    const r = this.native.closeOwnedSync(fd)
    if (r < 0) throw systemError(r, 'close')
  }

  close_(): Promise<void> {
    this.closed = true
    this.closing ??= (async () => {
      if (this.s.inFlight > 0) {
        const idle = new Promise<void>((resolve) => (this.s.onIdle = resolve))
        this.native.cancelAll()
        await idle
      }
      this.s.onIdle = undefined
      this.final = this.native.stats()
      this.native.destroy()
      if (this.fallback) await this.fallback.close_()
    })()
    return this.closing
  }
}
