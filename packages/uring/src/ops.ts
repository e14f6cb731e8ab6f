// The TypeScript op table: one row per op that is one native call on io_uring and one node:fs
// call otherwise, with no result beyond success (fsync, ftruncate, fallocate, unlink, mkdir,
// rename, ...). A row names the syscall its errors report, the io_uring opcode it needs (an
// `OpName`, generated from the Rust table, so a misspelt one does not compile), its arguments
// with their checks and defaults, and how each backend starts it. From the rows come Ring's
// low-level methods (ring.ts: `Ring#run`), the ops of batch and link (batch.ts: `fromRow`), and
// each backend's one start path for them (`Backend.call`). Reads, writes, opens, stats and nop
// return more than success and keep hand-written paths (the hot ones are tuned).
// How to add an op: ARCHITECTURE.md, "Adding an op".
import * as fs from 'node:fs'
import type { NativeRing } from '../binding'
import { invalidArgValue, systemError, UV } from './errors'
import { EXECUTOR_ONLY_NAMES, type OpName } from './op-names'
import { getValidatedPath, parseFileMode, validateFd, validateInteger } from './validate'

/**
 * The syscall an op reports in its errors, by index. An op's `kind` is its shape plus the
 * index of its syscall times 8: one small integer per op instead of two fields.
 */
export const SYSCALLS = [
  'read',
  'write',
  'open',
  'close',
  'stat',
  'lstat',
  'fstat',
  'fsync',
  'fdatasync',
  'unlink',
  'rmdir',
  'mkdir',
  'rename',
  'nop',
  'symlink',
  'link',
  'ftruncate',
  'fallocate',
  'fadvise',
  'socket',
  'bind',
  'listen',
  'connect',
  'accept',
  'shutdown',
  'access',
  'chmod',
] as const
export const K = Object.fromEntries(SYSCALLS.map((name, i) => [name, i << 3])) as Record<Syscall, number>

export type Syscall = (typeof SYSCALLS)[number]

/** One argument of an op: its name (the batch op's field, and the name in argument errors). */
export interface Arg {
  readonly key: string
  /** A path: its errors name it (the first is `path`, a second `dest`). */
  readonly path?: true
  /** Checks `v` (undefined when omitted), returning the value to use; throws Node's errors naming `name`. */
  check(v: unknown, name: string): unknown
}

export interface Row {
  readonly syscall: Syscall
  /** The io_uring opcode it runs as: where the kernel lacks it, the op runs on node:fs. */
  readonly opcode: OpName
  /** Takes an fd before `args` (a FileHandle's batch brings its own; a Ring's op names it). */
  readonly fd: boolean
  readonly args: readonly Arg[]
  /** Starts it on an io_uring ring; `a` is `[fd?, ...args]`, checked. Returns the op's token. */
  uring(n: NativeRing, a: readonly any[]): number
  /** Starts it without io_uring; `done` is called once. */
  node(a: readonly any[], done: (e: NodeJS.ErrnoException | null) => void): void
  /**
   * Arguments for which the opcode answers otherwise than the syscall node:fs makes (read in the
   * kernel's source): a call with them runs on node:fs, so the answer is the syscall's.
   */
  readonly asSyscall?: (a: readonly any[]) => boolean
}

/** Linux's PATH_MAX, with the terminating NUL: a longer path is ENAMETOOLONG. */
const PATH_MAX = 4096
/**
 * `asSyscall` of the two-path rows (rename, link): their opcodes copy both paths in at prep, where
 * the new path fails when empty (ENOENT) or past PATH_MAX (ENAMETOOLONG); the syscalls look the
 * first path up before that, so their own error comes first.
 */
const secondPathFailsAtPrep = ([, p]: readonly any[]): boolean => p.length === 0 || (typeof p === 'string' ? Buffer.byteLength(p) : p.length) >= PATH_MAX

function int(key: string, min: number, def?: number): Arg {
  return {
    key,
    check(v, name) {
      if (v === undefined && def !== undefined) return def
      validateInteger(v, name, min)
      return v
    },
  }
}

function path(key: string): Arg {
  return { key, path: true, check: (v, name) => getValidatedPath(v, name) }
}

/** A file mode (number or octal string); without `def`, one must be given. */
function mode(key: string, def?: number): Arg {
  return { key, check: (v, name) => parseFileMode(v, name, def) }
}

/** `posix_fadvise` advice, by name or number (Linux numbering). */
export const ADVICE = { normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, noreuse: 5 } as const
export type Advice = keyof typeof ADVICE | (typeof ADVICE)[keyof typeof ADVICE]

const advice: Arg = {
  key: 'advice',
  check(v, name) {
    if (typeof v === 'string' && Object.hasOwn(ADVICE, v)) return ADVICE[v as keyof typeof ADVICE]
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) return v
    throw invalidArgValue(
      name,
      v,
      `must be one of ${Object.keys(ADVICE)
        .map((k) => `'${k}'`)
        .join(', ')} or 0..5`,
    )
  },
}

/** access(2)'s mode: F_OK (0, the default) or a mask of R_OK, W_OK and X_OK, as Node's getValidMode. */
const accessMode: Arg = {
  key: 'mode',
  check(v, name) {
    if (v == null) return 0
    validateInteger(v, name, 0, 7)
    return v
  },
}

/**
 * Opcodes no kernel has: ops the ring's executor runs with plain syscalls (uring-core's
 * `EXECUTOR_ONLY`, through op-names.ts), reported by a ring with an executor only. Without one they run on node:fs
 * (not counted as a fallback: no kernel has them); a link does not chain them.
 */
export const EXECUTOR_ONLY: ReadonlySet<OpName> = new Set<OpName>(EXECUTOR_ONLY_NAMES)

const AT_REMOVEDIR = 0x200
const S_IFMT = 0o170000

/** No argument: `done` once on the next turn of the loop, as node:fs would call back. */
const unsupported = (syscall: Syscall) => (_a: readonly unknown[], done: (e: NodeJS.ErrnoException | null) => void) => setImmediate(done, systemError(UV.EOPNOTSUPP, syscall))

/** Every op of the table, by the name batch and link give it. */
export const ROWS = {
  fsync: { syscall: 'fsync', opcode: 'fsync', fd: true, args: [], uring: (n, [fd]) => n.fsync(fd, false), node: ([fd], done) => fs.fsync(fd, done) },
  fdatasync: { syscall: 'fdatasync', opcode: 'fsync', fd: true, args: [], uring: (n, [fd]) => n.fsync(fd, true), node: ([fd], done) => fs.fdatasync(fd, done) },
  /** Truncates (or extends) to `length` bytes, default 0. */
  ftruncate: {
    syscall: 'ftruncate',
    opcode: 'ftruncate',
    fd: true,
    args: [int('length', 0, 0)],
    uring: (n, [fd, len]) => n.ftruncate(fd, len),
    node: ([fd, len], done) => fs.ftruncate(fd, len, done),
  },
  /**
   * `fallocate(fd, mode, offset, length)`: mode 0 allocates the range (the file grows to cover
   * it), `FALLOC_FL_KEEP_SIZE` (1) without changing the size, and the kernel's other modes.
   * node:fs has no fallocate: without io_uring's opcode it rejects ENOTSUP, as fallocate(2)
   * does on a file system without it.
   */
  fallocate: {
    syscall: 'fallocate',
    opcode: 'fallocate',
    fd: true,
    args: [int('mode', 0, 0), int('offset', 0, 0), int('length', 1)],
    uring: (n, [fd, mode, offset, len]) => n.fallocate(fd, mode, offset, len),
    node: unsupported('fallocate'),
  },
  /**
   * `posix_fadvise(fd, offset, length, advice)` (length 0: to the end). Advice the kernel may
   * ignore; node:fs has no fadvise, so without io_uring's opcode the fd is checked as the kernel
   * would (EBADF; ESPIPE for a pipe or socket) and the advice is not given.
   */
  fadvise: {
    syscall: 'fadvise',
    opcode: 'fadvise',
    fd: true,
    args: [int('offset', 0, 0), int('length', 0, 0), advice],
    uring: (n, [fd, offset, len, adv]) => n.fadvise(fd, offset, len, adv),
    node: ([fd], done) =>
      fs.fstat(fd, (e, st) => {
        if (e) return done(systemError(e.errno ?? UV.EBADF, 'fadvise'))
        const kind = st.mode & S_IFMT
        done(kind === fs.constants.S_IFIFO || kind === fs.constants.S_IFSOCK ? systemError(UV.ESPIPE, 'fadvise') : null)
      }),
  },
  unlink: { syscall: 'unlink', opcode: 'unlinkat', fd: false, args: [path('path')], uring: (n, [p]) => n.unlinkat(p, 0), node: ([p], done) => fs.unlink(p, done) },
  rmdir: { syscall: 'rmdir', opcode: 'unlinkat', fd: false, args: [path('path')], uring: (n, [p]) => n.unlinkat(p, AT_REMOVEDIR), node: ([p], done) => fs.rmdir(p, done) },
  /** One directory, `mode` default 0o777. */
  mkdir: {
    syscall: 'mkdir',
    opcode: 'mkdirat',
    fd: false,
    args: [path('path'), mode('mode', 0o777)],
    uring: (n, [p, m]) => n.mkdirat(p, m),
    node: ([p, m], done) => fs.mkdir(p, { mode: m }, (e) => done(e)),
  },
  rename: {
    syscall: 'rename',
    opcode: 'renameat',
    fd: false,
    args: [path('oldPath'), path('newPath')],
    uring: (n, [a, b]) => n.renameat(a, b),
    node: ([a, b], done) => fs.rename(a, b, done),
    asSyscall: secondPathFailsAtPrep,
  },
  symlink: { syscall: 'symlink', opcode: 'symlinkat', fd: false, args: [path('target'), path('path')], uring: (n, [a, b]) => n.symlinkat(a, b), node: ([a, b], done) => fs.symlink(a, b, done) },
  link: {
    syscall: 'link',
    opcode: 'linkat',
    fd: false,
    args: [path('existingPath'), path('newPath')],
    uring: (n, [a, b]) => n.linkat(a, b),
    node: ([a, b], done) => fs.link(a, b, done),
    asSyscall: secondPathFailsAtPrep,
  },
  /** access(2) of `path` for `mode` (default F_OK): on the ring's executor (no opcode). */
  access: { syscall: 'access', opcode: 'access', fd: false, args: [path('path'), accessMode], uring: (n, [p, m]) => n.access(p, m), node: ([p, m], done) => fs.access(p, m, done) },
  /** chmod(2) of `path` to `mode` (required): on the ring's executor (no opcode). */
  chmod: {
    syscall: 'chmod',
    opcode: 'chmod',
    fd: false,
    args: [path('path'), mode('mode')],
    uring: (n, [p, m]) => n.chmod(p, m),
    node: ([p, m], done) => fs.chmod(p, m, done),
  },
} as const satisfies Record<string, Row>

export type RowName = keyof typeof ROWS

/**
 * The opcodes started by hand-written paths instead of rows, and where: each returns more than
 * success (bytes, an fd, Stats, a stream of completions) or is on a hot path. Together with the
 * rows' opcodes these are every opcode of the Rust table (`__test__/ops.spec.ts` checks it), so
 * an op added in Rust fails that test until TypeScript starts it somewhere.
 */
export const HAND_OPCODES = {
  read: 'backend-uring.ts (hot read), batch.ts',
  write: 'backend-uring.ts (hot write), batch.ts',
  read_fixed: 'the binding, for reads through registered memory',
  write_fixed: 'the binding, for writes through registered memory',
  readv: 'backend-uring.ts',
  writev: 'backend-uring.ts',
  openat: 'backend-uring.ts, chains',
  close: 'backend-uring.ts, chains',
  statx: 'backend-uring.ts (stat, lstat, fstat)',
  nop: 'backend-uring.ts',
  socket: 'net/uring.ts',
  bind: 'net/uring.ts',
  listen: 'net/uring.ts',
  connect: 'net/uring.ts',
  accept: 'net/uring.ts (multishot)',
  recv: 'net/uring.ts (multishot, provided buffers)',
  send: 'net/uring.ts',
  send_zc: 'net/uring.ts',
  shutdown: 'net/uring.ts',
  async_cancel: 'the binding, for cancellation',
  readdir: 'readdir.ts, backend-uring.ts (scandir: the executor reads the directory, no opcode)',
} as const satisfies Partial<Record<OpName, string>>

/** Checks `values` (`[fd?, ...args]`, in the row's order) as a Ring method's arguments. */
export function checkArgs(row: Row, values: readonly unknown[]): unknown[] {
  const a = new Array<unknown>(values.length)
  let i = 0
  if (row.fd) {
    const fd = values[0]
    validateFd(fd)
    a[i++] = fd
  }
  for (const arg of row.args) {
    a[i] = arg.check(values[i], arg.key)
    i++
  }
  return a
}

/** The path and dest an op's errors name: its first two path arguments. */
export function pathsOf(row: Row, a: readonly unknown[]): [string | Buffer | undefined, string | Buffer | undefined] {
  let p: string | Buffer | undefined
  let d: string | Buffer | undefined
  const base = row.fd ? 1 : 0
  for (let i = 0; i < row.args.length; i++) {
    if (row.args[i].path !== true) continue
    if (p === undefined) p = a[base + i] as string | Buffer
    else if (d === undefined) d = a[base + i] as string | Buffer
  }
  return [p, d]
}
