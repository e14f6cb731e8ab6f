import { type BigIntStats, constants, type Stats } from 'node:fs'
import type * as nodeFsPTypes from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Backend } from './backend'
import { ROWS } from './ops'
import { invalidArgType, invalidArgValue, NodeStyleError, type SystemError, UV, systemError, withCaller } from './errors'
import { checkAborted, getOptions, getValidatedPath, NODE_MAJOR, parseFileMode, type PathLike, stringToFlags, validateBoolean, validateObject, validateInt32, validateUint32 } from './validate'
import { FileHandle, statBigint } from './file-handle'
import type { Encoding, NonSharedBuffer, MakeDirectoryOptions, Mode, OpenMode, ReadFileOptions, RmDirOptions, StatOptions, WriteData, WriteFileOptions } from './fs-types'
import { decoded, intoBuffer, isArrayBufferView, isIterable, readOpened, refuseEncoding, toBytes, undecodable, writeEncoding } from './whole-file'
import type { PathFiles } from './batch'
import { nodeFsP } from './node-promises'
import { readdir } from './readdir'

/** Open flags that can create a file, which then takes the open's mode: O_CREAT, Linux's __O_TMPFILE. */
const CREATES = constants.O_CREAT | 0o20000000

/**
 * Functions the kernel has no io_uring opcode for: they run on node:fs (libuv's thread pool),
 * with node:fs's own argument checks, results and errors, tracked as ops of the ring (a closed
 * ring rejects them; closing the ring waits for them).
 */
const DELEGATED = ['chown', 'copyFile', 'cp', 'lchmod', 'lchown', 'lutimes', 'mkdtemp', 'opendir', 'readlink', 'realpath', 'rm', 'statfs', 'utimes', 'mkdtempDisposable'] as const
/** Functions that return an async iterator rather than a promise: handed to node:fs as they are. */
const PASSED_THROUGH = ['watch', 'glob'] as const

/**
 * Node 22+ `glob`: the installed @types/node's where it declares one (its 22 and later), else
 * undefined, as on Node 20. Like node:fs/promises' own types, they follow @types/node, not the
 * running Node.
 */
export type GlobFn = typeof nodeFsPTypes extends { glob: infer G } ? G : undefined
/** Node 24 `mkdtempDisposable`: the installed @types/node's where it declares one, else undefined. */
export type MkdtempDisposableFn = typeof nodeFsPTypes extends { mkdtempDisposable: infer F } ? F : undefined

/** A FileHandle of uring's, or one of node:fs/promises' (whose own methods then do the work, as in Node). */
export type AnyFileHandle = FileHandle | nodeFsPTypes.FileHandle

/**
 * `v` is a FileHandle: uring's, or Node's own (from node:fs/promises before uring/register, or a
 * library's copy of it), which readFile/writeFile/appendFile hand to its own methods.
 */
function isFileHandle(v: unknown): v is FileHandle {
  if (v instanceof FileHandle) return true
  if (typeof v !== 'object' || v === null || isArrayBufferView(v) || v instanceof URL) return false
  const h = v as Record<string, unknown>
  return typeof h.fd === 'number' && typeof h.readFile === 'function' && typeof h.writeFile === 'function' && typeof h.getAsyncId === 'function'
}

/** `f.apply(self, args)`'s promise, or a rejected one if it threw (for methods that are not async). */
function promised(f: (...a: unknown[]) => unknown, self: unknown, args: unknown[]): Promise<unknown> {
  try {
    return f.apply(self, args) as Promise<unknown>
  } catch (e) {
    return Promise.reject(e)
  }
}

/** `node:fs/promises` functions, bound to one backend (one ring). */
export class FsApi {
  readonly #backend: () => Backend
  /** `fs.constants` (O_RDONLY, S_IFMT, ...). */
  readonly constants = constants

  /** node:fs `chown` (no io_uring opcode). */
  declare readonly chown: typeof nodeFsPTypes.chown
  /** node:fs `copyFile`: copy_file_range / reflink in one syscall beats a read/write loop. */
  declare readonly copyFile: typeof nodeFsPTypes.copyFile
  /** node:fs `cp` (recursive copy; composed of calls with no opcode). */
  declare readonly cp: typeof nodeFsPTypes.cp
  /** node:fs `lchmod` (not implemented on Linux, as in Node). */
  declare readonly lchmod: typeof nodeFsPTypes.lchmod
  /** node:fs `lchown` (no io_uring opcode). */
  declare readonly lchown: typeof nodeFsPTypes.lchown
  /** node:fs `lutimes` (no io_uring opcode). */
  declare readonly lutimes: typeof nodeFsPTypes.lutimes
  /** node:fs `mkdtemp` (the random name comes from mkdtemp(3)). */
  declare readonly mkdtemp: typeof nodeFsPTypes.mkdtemp
  /** node:fs `opendir` (no getdents opcode). */
  declare readonly opendir: typeof nodeFsPTypes.opendir
  /**
   * `readdir`, incl. `withFileTypes`: the entries read on the ring's executor (no io_uring opcode
   * reads a directory; see readdir.ts); `recursive` and encodings other than UTF-8 and 'buffer'
   * on node:fs.
   */
  declare readonly readdir: typeof nodeFsPTypes.readdir
  /** node:fs `readlink` (no io_uring opcode). */
  declare readonly readlink: typeof nodeFsPTypes.readlink
  /** node:fs `realpath` (no io_uring opcode). */
  declare readonly realpath: typeof nodeFsPTypes.realpath
  /** node:fs `rm` (recursive removal walks directories, which needs getdents). */
  declare readonly rm: typeof nodeFsPTypes.rm
  /** node:fs `statfs` (no io_uring opcode). */
  declare readonly statfs: typeof nodeFsPTypes.statfs
  /** node:fs `utimes` (no io_uring opcode). */
  declare readonly utimes: typeof nodeFsPTypes.utimes
  /** node:fs `watch` (inotify; an async iterator). */
  declare readonly watch: typeof nodeFsPTypes.watch
  /** node:fs `glob` on Node 22+; undefined on Node 20, as in node:fs/promises. */
  declare readonly glob: GlobFn
  /** node:fs `mkdtempDisposable` on Node 24+; undefined before, as in node:fs/promises. */
  declare readonly mkdtempDisposable: MkdtempDisposableFn

  /** @internal */
  constructor(backend: () => Backend) {
    this.#backend = backend
    // Methods are used detached (`const { readFile } = ring.fs`), as node:fs/promises allows.
    for (const name of Object.getOwnPropertyNames(FsApi.prototype)) {
      const v = (FsApi.prototype as any)[name]
      // Each rejection's stack shows the caller's frames (see withCaller).
      if (typeof v === 'function' && name !== 'constructor') (this as any)[name] = (...args: unknown[]) => withCaller(promised(v, this, args))
    }
    const node = nodeFsP as Record<string, any>
    for (const name of DELEGATED) {
      const f = node[name]
      ;(this as any)[name] = f === undefined ? undefined : (...args: unknown[]) => withCaller(this.#backend().delegate(name, () => f(...args)))
    }
    for (const name of PASSED_THROUGH) (this as any)[name] = node[name]
    ;(this as any).readdir = (path: unknown, options: unknown) => withCaller(promised(readdir as (...a: unknown[]) => unknown, undefined, [this.#backend(), path, options]))
  }

  /** `chmod`: on the ring's executor (no io_uring opcode); a mode Node's binding would abort on (2**31 and more, -0) is rejected first. */
  async chmod(path: PathLike, mode: Mode): Promise<void> {
    const p = getValidatedPath(path)
    return this.#backend().call(ROWS.chmod, [p, parseFileMode(mode, 'mode')])
  }

  /** `access` (mode default F_OK): on the ring's executor (no io_uring opcode). */
  async access(path: PathLike, mode?: number): Promise<void> {
    const p = getValidatedPath(path)
    // A mode other than F_OK..7: node:fs's own error (its wording differs between Node versions).
    if (mode != null && !(Number.isInteger(mode) && mode >= 0 && mode <= 7)) return this.#backend().delegate('access', () => nodeFsP.access(path, mode))
    return this.#backend().call(ROWS.access, [p, mode ?? 0])
  }

  /** Opens a file; `flags` default 'r', `mode` default 0o666. */
  async open(path: PathLike, flags?: OpenMode | null, mode?: Mode | null): Promise<FileHandle> {
    const p = getValidatedPath(path)
    // Flags of -0 pass Node's check and abort its binding, after the mode's check: a bad mode first.
    if (Object.is(flags, -0)) parseFileMode(mode, 'mode', 0o666)
    const f = stringToFlags(flags, 'r')
    const m = parseFileMode(mode, 'mode', 0o666)
    return this.#open(p, f, m)
  }

  /** Opens with checked arguments; a `signal` that aborts cancels the open (see Backend). */
  async #open(path: string | Buffer, flags: number, mode: number, signal?: AbortSignal): Promise<FileHandle> {
    const backend = this.#backend()
    return new FileHandle(backend, await backend.open(path, flags, mode, signal))
  }

  /** Reads a whole file (path or FileHandle). */
  readFile(path: PathLike | AnyFileHandle, options?: { encoding?: null; flag?: OpenMode; signal?: AbortSignal } | null): Promise<NonSharedBuffer>
  readFile(path: PathLike | AnyFileHandle, options: { encoding: BufferEncoding; flag?: OpenMode; signal?: AbortSignal } | BufferEncoding): Promise<string>
  readFile(path: PathLike | AnyFileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | NonSharedBuffer>
  // Not async (two promises fewer per call on a hot path): a throw here becomes the rejection in
  // the constructor's wrapper (`promised`).
  readFile(path: PathLike | AnyFileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | NonSharedBuffer> {
    const o = getOptions(options, { flag: 'r' as OpenMode, encoding: null as Encoding, signal: undefined as AbortSignal | undefined })
    const into = intoBuffer(options)
    if (isFileHandle(path)) return path.readFile(o) as Promise<string | NonSharedBuffer>
    // Node's order: an aborted signal before the path (which its open checks).
    checkAborted(o.signal)
    const p = getValidatedPath(path)
    // Node reads `options.flag || 'r'`: null, '', 0 and false mean 'r' (as 'w' and 'a' below).
    const flags = stringToFlags(o.flag || 'r')
    if (undecodable(o.encoding) || into !== undefined) return this.#readFileOpened(p, flags, o, into)
    const data = readPath(this.#backend(), p, flags, o.signal)
    return o.encoding ? data.then((d) => decoded(d, o.encoding)) : (data as Promise<NonSharedBuffer>)
  }

  /** readFile with an encoding Node refuses, or into the caller's buffer: through a FileHandle. */
  async #readFileOpened(p: string | Buffer, flags: number, o: ReadFileOptions & { encoding: Encoding }, into: unknown): Promise<string | NonSharedBuffer> {
    if (undecodable(o.encoding)) {
      // Node opens the file (a flag may create or truncate it), then refuses the encoding.
      await (await this.#open(p, flags, 0o666, o.signal)).close()
      refuseEncoding(o.encoding)
    }
    const fh = await this.#open(p, flags, 0o666, o.signal)
    return closeAfter(fh, () => fh.readFile(o))
  }

  /** Writes a whole file (path or FileHandle); creates or truncates it (flag 'w'). */
  async writeFile(path: PathLike | AnyFileHandle, data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, mode: 0o666 as Mode, flag: 'w' as OpenMode, signal: undefined as AbortSignal | undefined })
    return this.#writeFile(path, data, o)
  }

  /** Appends to a file (path or FileHandle), creating it (flag 'a'). */
  async appendFile(path: PathLike | AnyFileHandle, data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8' as BufferEncoding | null, mode: 0o666 as Mode, flag: 'a' as OpenMode, signal: undefined as AbortSignal | undefined })
    return this.#writeFile(path, data, { ...o, flag: o.flag || 'a' })
  }

  async #writeFile(path: PathLike | AnyFileHandle, data: WriteData, o: WriteFileOptions & { encoding?: Encoding }): Promise<void> {
    const flush = o.flush ?? false
    validateBoolean(flush, 'options.flush')
    if (!isArrayBufferView(data) && typeof data !== 'string' && !isIterable(data)) {
      throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], data)
    }
    // As Node: a string is encoded before anything is opened (a bad encoding leaves the file alone).
    if (typeof data === 'string') data = Buffer.from(data, writeEncoding(o.encoding))
    if (isFileHandle(path)) return path.writeFile(data, { encoding: o.encoding as BufferEncoding | null, signal: o.signal })
    // Node's order: an aborted signal before the path and the mode (which its open checks).
    checkAborted(o.signal)
    const p = getValidatedPath(path)
    const flags = stringToFlags(o.flag || 'w')
    const mode = parseFileMode(o.mode, 'mode', 0o666)
    return writePath(this.#backend(), p, flags, mode, data, o.encoding, flush, o.signal)
  }

  /** `stat` (follows symlinks). `{ bigint: true }` gives `BigIntStats` (computed by node:fs). */
  stat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>
  stat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>
  stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>
  // Not async (one promise and two ticks fewer per call, on a hot path): a throw here becomes the
  // rejection in the constructor's wrapper (`promised`).
  stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
    const p = getValidatedPath(path)
    if (statBigint(options)) return this.#backend().delegate('stat', () => nodeFsP.stat(p, { bigint: true }))
    return this.#backend().stat(p, true)
  }

  /** `lstat` (does not follow a final symlink). */
  lstat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>
  lstat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>
  lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>
  lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
    const p = getValidatedPath(path)
    if (statBigint(options)) return this.#backend().delegate('lstat', () => nodeFsP.lstat(p, { bigint: true }))
    return this.#backend().stat(p, false)
  }

  /** Removes a file or symlink. */
  async unlink(path: PathLike): Promise<void> {
    return this.#backend().call(ROWS.unlink, [getValidatedPath(path)])
  }

  /** Renames `oldPath` to `newPath`, replacing it if it exists. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    const a = getValidatedPath(oldPath, 'oldPath')
    const b = getValidatedPath(newPath, 'newPath')
    return this.#backend().call(ROWS.rename, [a, b])
  }

  /** Creates a symbolic link at `path` whose target is `target` (stored as given). */
  async symlink(target: PathLike, path: PathLike, type?: string | null): Promise<void> {
    // `type` only matters on Windows; Node 24 checks it, Node 20 and 22 ignore it.
    if (NODE_MAJOR >= 24 && type != null && type !== 'dir' && type !== 'file' && type !== 'junction') {
      throw invalidArgValue('type', type, "must be one of: 'dir', 'file', 'junction', null, undefined")
    }
    const t = getValidatedPath(target, 'target')
    const p = getValidatedPath(path)
    // Node's stringToSymlinkFlags, after the paths: a string type must be one it knows.
    if (typeof type === 'string' && type !== 'dir' && type !== 'file' && type !== 'junction') {
      throw new NodeStyleError(Error as ErrorConstructor, 'ERR_FS_INVALID_SYMLINK_TYPE', `Symlink type must be one of "dir", "file", or "junction". Received "${type}"`)
    }
    return this.#backend().call(ROWS.symlink, [t, p])
  }

  /** Creates a hard link `newPath` to `existingPath`. */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    const a = getValidatedPath(existingPath, 'existingPath')
    const b = getValidatedPath(newPath, 'newPath')
    return this.#backend().call(ROWS.link, [a, b])
  }

  /** Truncates (or extends with zeros) the file at `path` to `len` bytes: open, ftruncate and close on the ring. */
  async truncate(path: PathLike, len: number = 0): Promise<void> {
    const fh = await this.open(path, 'r+')
    return closeAfter(fh, () => fh.truncate(len))
  }

  /** Removes an empty directory. (`recursive` is deprecated in Node and runs on node:fs.) */
  async rmdir(path: PathLike, options?: RmDirOptions): Promise<void> {
    const p = getValidatedPath(path)
    if (options !== undefined) {
      // Node's validateRmdirOptions (only undefined means the defaults).
      validateObject(options, 'options')
      const o = { retryDelay: 100, maxRetries: 0, recursive: false, ...options }
      validateBoolean(o.recursive, 'options.recursive')
      validateInt32(o.retryDelay, 'options.retryDelay', 0)
      validateUint32(o.maxRetries, 'options.maxRetries')
      if (o.recursive) return this.#backend().delegate('rmdir', () => nodeFsP.rmdir(p, options))
    }
    return this.#backend().call(ROWS.rmdir, [p])
  }

  /**
   * Creates a directory. With `recursive`, creates missing parents and resolves to the first
   * directory created (undefined when none was).
   */
  mkdir(path: PathLike, options: MakeDirectoryOptions & { recursive: true }): Promise<string | undefined>
  mkdir(path: PathLike, options?: Mode | (MakeDirectoryOptions & { recursive?: false }) | null): Promise<undefined>
  mkdir(path: PathLike, options?: Mode | MakeDirectoryOptions | null): Promise<string | undefined>
  async mkdir(path: PathLike, options?: Mode | MakeDirectoryOptions | null): Promise<string | undefined> {
    let recursive: unknown = false
    let mode: unknown = 0o777
    if (typeof options === 'number' || typeof options === 'string') mode = options
    else if (options) {
      // As Node's `{ recursive = false, mode = 0o777 } = options || {}` (falsy options: defaults).
      const o = options as MakeDirectoryOptions
      if (o.recursive !== undefined) recursive = o.recursive
      if (o.mode !== undefined) mode = o.mode
    }
    // Node's order: the path, then recursive, then the mode.
    const p = getValidatedPath(path)
    validateBoolean(recursive, 'options.recursive')
    const m = parseFileMode(mode, 'mode', 0o777)
    const backend = this.#backend()
    if (!recursive) {
      await backend.call(ROWS.mkdir, [p, m])
      return undefined
    }
    if (typeof p === 'string') return mkdirp(backend, p, m, (q) => q)
    // A Buffer path keeps its bytes (not all are UTF-8): walked as a latin1 string, one char per byte.
    const first = await mkdirp(backend, p.toString('latin1'), m, (q) => Buffer.from(q, 'latin1'))
    return first === undefined ? undefined : Buffer.from(first, 'latin1').toString()
  }
}

/** @internal readFile of a checked path: one linked submission where the ring can, else open → read → close. */
export function readPath(backend: Backend, p: string | Buffer, flags: number, signal: AbortSignal | undefined): Promise<Buffer> {
  // The chained open has no mode: flags that can create a file go step by step, with 0o666 as Node.
  if (signal === undefined && (flags & CREATES) === 0) {
    // One linked submission where the ring can (open → read → read, no round trip through JS);
    // its promise is the readFile's own (a file the chain did not read whole is read on by
    // readOpened from inside it).
    const chained = backend.readFile?.(p, flags, readOpened)
    if (chained !== undefined) return chained
  }
  return readStepwise(backend, p, flags, signal)
}

async function readStepwise(backend: Backend, p: string | Buffer, flags: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const fh = new FileHandle(backend, await backend.open(p, flags, 0o666, signal))
  return closeAfter(fh, () => fh.readFile({ signal }))
}

/** @internal writeFile of a checked path: one linked submission where the ring can, else open → write → close. */
export async function writePath(
  backend: Backend,
  p: string | Buffer,
  flags: number,
  mode: number,
  data: WriteData,
  encoding: Encoding | undefined,
  flush: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  // One linked submission where the ring can (open → write → close). Not for no bytes (a write of
  // 0 bytes on an fd not open for writing is EBADF; Node makes none) nor for a view whose buffer
  // was detached, which Node meets only after its open (the file is created or truncated, then
  // the TypeError; a detached Uint8Array has no bytes): the step path below does as Node.
  if (signal === undefined && !flush && (typeof data === 'string' || isArrayBufferView(data))) {
    const bytes = typeof data === 'string' ? Buffer.from(data, writeEncoding(encoding)) : bytesOrUndefined(data)
    const chained = bytes === undefined || bytes.byteLength === 0 ? undefined : backend.writeFile?.(p, flags, mode, bytes)
    if (chained !== undefined) return chained
  }
  const fh = new FileHandle(backend, await backend.open(p, flags, mode, signal))
  return closeAfter(fh, async () => {
    await fh.writeFile(data, { encoding: encoding as BufferEncoding | null, signal })
    if (flush) await fh.sync()
  })
}

/** `v`'s bytes (`toBytes`), or undefined when they cannot be had: its buffer was detached. */
function bytesOrUndefined(v: NodeJS.ArrayBufferView): Uint8Array | undefined {
  try {
    return toBytes(v)
  } catch {
    return undefined
  }
}

/** Runs `f`, then closes `fh` whatever happened; an error of `f` wins over one of close. */
async function closeAfter<R>(fh: FileHandle, f: () => Promise<R>): Promise<R> {
  let result: R
  try {
    result = await f()
  } catch (e) {
    await fh.close().catch(() => {})
    throw e
  }
  await fh.close()
  return result
}

/** Node's MKDirpAsync: returns the first directory created, or undefined. */
async function mkdirp(backend: Backend, path: string, mode: number, k: (p: string) => string | Buffer, top = true): Promise<string | undefined> {
  // Failures are expected here (EEXIST, ENOENT): the mkdirs resolve with their errno, and an
  // Error is made only for what is thrown.
  const r = await backend.callErrno(ROWS.mkdir, [k(path), mode])
  if (r === 0) return path
  if (r === UV.EEXIST) {
    // What is there decides, as in Node's mkdirp: a directory is fine. Anything else is EEXIST for
    // the path asked for, and ENOTDIR (naming this parent) for a parent; a name that stat cannot
    // follow (a dangling symlink) is stat's error for the path asked for.
    let st: Stats | undefined
    try {
      st = await backend.stat(k(path), true)
    } catch (se) {
      if (!top) throw systemError(UV.ENOTDIR, 'mkdir', k(path))
      throw systemError((se as SystemError).errno, 'mkdir', k(path))
    }
    if (st.isDirectory()) return undefined
    throw systemError(top ? r : UV.ENOTDIR, 'mkdir', k(path))
  }
  const parent = dirname(path)
  if (r !== UV.ENOENT || parent === path) throw systemError(r, 'mkdir', k(path))
  const first = await mkdirp(backend, parent, mode, k, false)
  const again = await backend.callErrno(ROWS.mkdir, [k(path), mode])
  if (again !== 0) {
    const st = again === UV.EEXIST ? await backend.stat(k(path), true).catch(() => undefined) : undefined
    if (!st?.isDirectory()) throw systemError(again, 'mkdir', k(path))
  }
  return first ?? path
}

/** @internal readFile/writeFile of a path, for the batches that hold them (batch.ts cannot import this
 * module: FileHandle, which this module builds on, imports batch.ts). */
export const PATH_FILES: PathFiles = { readPath, writePath }
