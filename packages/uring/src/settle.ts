// The JavaScript side of the ops in flight on an io_uring ring: per token, what settles its
// completion (the promise's functions, the result's shape and buffers, the paths its errors
// name, its owner, its AbortSignal, the group or batch it belongs to, or a handler for ops with
// many completions), and `complete(n)`, which settles a batch of completions in one pass.
import { types } from 'node:util'
import { AbortError, systemError } from './errors'
import { type Owner, shaped } from './backend'
import { K, SYSCALLS } from './ops'
import { STATX_SIZE, statsFromStatx } from './stats'

const isProxy = types.isProxy

/** Result shapes beyond the public ones (`Shape` uses 0..4); a shape fits in 3 bits. */
export const VOID = 5
export const STAT = 6
/** A file-table slot closed without anyone waiting: its completion only frees the slot. */
export const SLOT_CLOSED = 7
/** A flag of an op's kind (above the syscall's bits, within a small integer): a failure resolves with its -errno (`callErrno`). */
export const ERRNO = 1 << 20
/** `IORING_CQE_F_MORE`: more completions of the same op follow. */
export const F_MORE = 2

/** Ops settled together (a readFile/writeFile chain): `settle` runs once all have completed. */
export interface Group {
  results: number[]
  left: number
  settle(): void
}

/** What an op started while a batch is gathered returns instead of a promise of its own. */
export const GATHERED: Promise<never> = Object.freeze(Promise.resolve()) as Promise<never>

/**
 * The ops of one batch (`settleAll`): each settles into its slot of `values` through the shared
 * `ok`/`fail` (told which slot by `at`), with no promise per op; the batch's one promise
 * resolves once all have.
 */
export class Gather {
  readonly values: PromiseSettledResult<unknown>[]
  left: number
  /** The slot of the op being settled (set by `complete`) or started (set by `settleAll`). */
  at = 0
  readonly promise: Promise<PromiseSettledResult<unknown>[]>
  private resolve!: (v: PromiseSettledResult<unknown>[]) => void
  constructor(n: number) {
    this.values = new Array(n)
    this.left = n
    this.promise = new Promise((r) => (this.resolve = r))
    if (n === 0) this.resolve(this.values)
  }
  private set(i: number, r: PromiseSettledResult<unknown>): void {
    this.values[i] = r
    if (--this.left === 0) this.resolve(this.values)
  }
  readonly ok = (value: unknown): void => this.set(this.at, { status: 'fulfilled', value })
  readonly fail = (reason: unknown): void => this.set(this.at, { status: 'rejected', reason })
  /** An op that settles by a promise of its own (run on node:fs, or refused). */
  adopt(i: number, p: Promise<unknown>): void {
    p.then(
      (value) => this.set(i, { status: 'fulfilled', value }),
      (reason) => this.set(i, { status: 'rejected', reason }),
    )
  }
}

export type Resolve = (v: any) => void
export type Reject = (e: unknown) => void

export class Settler {
  /** Ops tracked and not yet completed. */
  inFlight = 0
  /** Runs once `inFlight` drops to 0 (set while the ring closes). */
  onIdle: (() => void) | undefined

  /**
   * `comp`: the completion triples the native ring writes; `cancel(t)` asks the ring to end op
   * `t` early (an aborted signal); `closeFd(fd)` closes an fd that an aborted open returned;
   * `statArea` receives the statx results (see there).
   */
  constructor(
    private readonly comp: Int32Array,
    private readonly cancel: (t: number) => void,
    private readonly closeFd: (fd: number) => void,
    /** The stat area: a statx completion's `struct statx` at `STATX_SIZE *` its index in `comp`. */
    readonly statArea: Uint8Array,
  ) {
    this.statView = new DataView(statArea.buffer, statArea.byteOffset, statArea.byteLength)
  }

  private readonly statView: DataView

  // Per-op state, in parallel arrays indexed by the native token (slot index).
  readonly resolves: Array<Resolve | undefined> = []
  readonly rejects: Array<Reject | undefined> = []
  readonly kinds: number[] = []
  /** The buffer(s) for the result object, or the statx output. */
  readonly args: unknown[] = []
  readonly paths: Array<string | Buffer | undefined> = []
  readonly dests: Array<string | Buffer | undefined> = []
  readonly owners: Array<Owner | undefined> = []
  /** The AbortSignal of an op started with one, and the listener that cancels it. */
  readonly signals: Array<AbortSignal | undefined> = []
  readonly aborters: Array<(() => void) | undefined> = []
  /** The group (or gathered batch) of an op that is part of one, and its index in it. */
  readonly groups: Array<Group | Gather | undefined> = []
  /** Ops with more than one completion (multishot accept/recv, zero-copy send): each CQE goes
   * to the op's handler, `(result, flags)`; the last one has no F_MORE. */
  readonly handlers: Array<((r: number, flags: number) => void) | undefined> = []
  /** The batch being started: ops tracked meanwhile join it (see `settleAll`). */
  gathering: Gather | undefined
  readonly steps: number[] = []

  /** File-table slots no op uses. */
  readonly freeSlots: number[] = []

  /** `new Promise(this.capture)` hands its resolving functions over here, with no closure per op. */
  resolveNext: Resolve | undefined
  rejectNext: Reject | undefined
  readonly capture = (resolve: Resolve, reject: Reject): void => {
    this.resolveNext = resolve
    this.rejectNext = reject
  }

  complete(n: number): void {
    const c = this.comp
    for (let i = 0; i < n; i++) {
      const t = c[3 * i]
      const r = c[3 * i + 1]
      const h = this.handlers[t]
      if (h !== undefined) {
        const flags = c[3 * i + 2]
        if ((flags & F_MORE) === 0) {
          this.handlers[t] = undefined
          this.inFlight--
        }
        // Handlers may start ops: they run after the loop, like the rest of such work.
        this.later.push(() => h(r, flags))
        continue
      }
      const resolve = this.resolves[t]!
      const reject = this.rejects[t]!
      const kind = this.kinds[t]
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
      const group = this.groups[t]
      if (group !== undefined) {
        this.groups[t] = undefined
        if (group instanceof Gather) {
          // resolve/reject are the batch's ok/fail: they settle this slot.
          group.at = this.steps[t]
        } else {
          group.results[this.steps[t]] = r
          if (--group.left === 0) this.later.push(group.settle)
          continue
        }
      }
      const shape = kind & 7
      if (shape === SLOT_CLOSED) {
        this.freeSlots.push(arg as number)
        continue
      }
      if (this.signals[t] !== undefined && this.unwatch(t, r, kind, reject)) continue
      if (r < 0) {
        if (kind & ERRNO) resolve(r)
        else reject(systemError(r, SYSCALLS[kind >> 3], path, dest))
      } else if (kind & ERRNO) resolve(0)
      else if (shape === VOID) resolve(undefined)
      else if (shape === STAT) resolve(statsFromStatx(this.statView, STATX_SIZE * i))
      else resolve(shaped(shape, r, arg))
    }
    // Work that may push ops runs only now: a token of this batch can be reused by a new op.
    for (let i = 0; i < this.later.length; i++) this.later[i]()
    this.later.length = 0
    if (this.inFlight === 0 && this.onIdle) this.onIdle()
  }

  /** What `complete` runs after its loop (see there). */
  private readonly later: Array<() => void> = []

  /** The promise of the op the native ring just accepted as token `t`. */
  track(t: number, kind: number, arg: unknown, owner: Owner | undefined, signal?: AbortSignal): Promise<any> {
    let p: Promise<any> = GATHERED
    const g = this.gathering
    if (g !== undefined) {
      this.resolves[t] = g.ok
      this.rejects[t] = g.fail
      this.groups[t] = g
      this.steps[t] = g.at
    } else {
      p = new Promise(this.capture)
      this.resolves[t] = this.resolveNext
      this.rejects[t] = this.rejectNext
    }
    this.kinds[t] = kind
    this.args[t] = arg
    if (owner !== undefined) this.owners[t] = owner
    this.inFlight++
    if (signal !== undefined) this.watch(t, signal)
    return p
  }

  /** Cancels op `t` (ASYNC_CANCEL) when `signal` aborts. */
  private watch(t: number, signal: AbortSignal): void {
    const cancel = (): void => {
      this.cancel(t)
    }
    this.signals[t] = signal
    if (signal.aborted) return cancel()
    // A signal reached through a Proxy (Node's tests wrap options in one, and so may libraries)
    // cannot take a listener — EventTarget's methods refuse the proxy as `this` — so it is only
    // read, as node:fs reads it: the op runs to its end and then rejects with an AbortError if
    // the signal aborted meanwhile (see `unwatch`), with no cancel in the kernel.
    if (isProxy(signal)) return
    this.aborters[t] = cancel
    signal.addEventListener('abort', cancel, { once: true })
  }

  /**
   * Op `t`, started with a signal, completed with `r`. Returns true (and rejects it with an
   * AbortError) when the signal has aborted: an fd that an aborted open returned is closed.
   */
  private unwatch(t: number, r: number, kind: number, reject: Reject): boolean {
    const signal = this.signals[t]!
    const cancel = this.aborters[t]
    this.signals[t] = undefined
    this.aborters[t] = undefined
    if (cancel !== undefined) signal.removeEventListener('abort', cancel)
    if (!signal.aborted) return false
    if (r >= 0 && kind >> 3 === K.open >> 3) this.later.push(() => this.closeFd(r))
    reject(new AbortError(undefined, { cause: signal.reason }))
    return true
  }

  /** One promise for the ops `tokens` (just pushed), settled with `settle(results)`. */
  group<R>(tokens: ArrayLike<number>, settle: (results: number[]) => R | Promise<R>): Promise<R> {
    const p = new Promise<R>(this.capture)
    const resolve = this.resolveNext!
    const reject = this.rejectNext!
    // Not `new Array(n).fill(0)`: fill of a holey array is a runtime call (4% of readFile's JS thread).
    const results: number[] = []
    for (let i = 0; i < tokens.length; i++) results.push(0)
    const g: Group = {
      results,
      left: tokens.length,
      settle: () => {
        try {
          resolve(settle(g.results))
        } catch (e) {
          reject(e)
        }
      },
    }
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]
      this.groups[t] = g
      this.steps[t] = i
      this.kinds[t] = 0
      this.inFlight++
    }
    return p
  }

  settleAll(n: number, start: (i: number) => Promise<unknown>): Promise<PromiseSettledResult<unknown>[]> {
    const g = new Gather(n)
    const outer = this.gathering
    this.gathering = g
    try {
      for (let i = 0; i < n; i++) {
        g.at = i
        const p = start(i)
        if (p !== GATHERED) g.adopt(i, p)
      }
    } finally {
      this.gathering = outer
    }
    return g.promise
  }

  alone<R>(f: () => R): R {
    const g = this.gathering
    this.gathering = undefined
    try {
      return f()
    } finally {
      this.gathering = g
    }
  }
}
