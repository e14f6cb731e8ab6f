// `uring/fs`: the node:fs/promises-compatible API on this thread's default ring
// (`defaultRing().fs`). Each call looks the default ring up, so it keeps working after the
// default ring was closed (a new one is made).
import { constants as fsConstants } from 'node:fs'
import type { FsApi } from './fs-api'
import { nodeFsP } from './node-promises'
import { defaultRing } from './ring'

export { FileHandle } from './file-handle'
export type * from './fs-api'
export type * from './fs-types'
export { ReadStream, WriteStream } from './fs-streams'
export type { ReadStreamOptions, WriteStreamOptions } from './fs-streams'

/** `name` of the default ring's FsApi, looked up at each call. */
function on<K extends keyof FsApi>(name: K): FsApi[K] {
  return ((...args: unknown[]) => (defaultRing().fs[name] as (...a: unknown[]) => unknown)(...args)) as FsApi[K]
}

/** Opens a file and resolves to a `FileHandle` (node:fs/promises `open`; flags default 'r', mode 0o666). On io_uring: IORING_OP_OPENAT. */
export const open = on('open')
/** Reads a whole file (path or FileHandle) as a Buffer, or a string with an encoding (node:fs/promises `readFile`). On io_uring a path is read as one linked submission. */
export const readFile = on('readFile')
/** Writes a whole file (path or FileHandle), creating or truncating it (node:fs/promises `writeFile`). */
export const writeFile = on('writeFile')
/** Appends to a file (path or FileHandle), creating it (node:fs/promises `appendFile`). */
export const appendFile = on('appendFile')
/** Stats a path, following symlinks (node:fs/promises `stat`; `{ bigint: true }` gives BigIntStats). On io_uring: IORING_OP_STATX. */
export const stat = on('stat')
/** Stats a path without following a final symlink (node:fs/promises `lstat`). */
export const lstat = on('lstat')
/** Removes a file or symlink (node:fs/promises `unlink`). On io_uring: IORING_OP_UNLINKAT. */
export const unlink = on('unlink')
/** Renames a file or directory (node:fs/promises `rename`). On io_uring: IORING_OP_RENAMEAT. */
export const rename = on('rename')
/** Creates a directory, `recursive` included (node:fs/promises `mkdir`). On io_uring: IORING_OP_MKDIRAT. */
export const mkdir = on('mkdir')
/** Removes an empty directory (node:fs/promises `rmdir`). */
export const rmdir = on('rmdir')
/** Creates a symbolic link at `path` to `target` (node:fs/promises `symlink`). On io_uring: IORING_OP_SYMLINKAT. */
export const symlink = on('symlink')
/** Creates a hard link (node:fs/promises `link`). On io_uring: IORING_OP_LINKAT. */
export const link = on('link')
/** Truncates a file to `len` bytes (node:fs/promises `truncate`): open, ftruncate, close. */
export const truncate = on('truncate')
/** Checks that a path is accessible (node:fs/promises `access`; runs on node:fs: no opcode). */
export const access = on('access')
/** Changes a path's mode (node:fs/promises `chmod`; runs on node:fs). */
export const chmod = on('chmod')
/** Changes a path's owner (node:fs/promises `chown`; runs on node:fs). */
export const chown = on('chown')
/** Copies a file (node:fs/promises `copyFile`; runs on node:fs). */
export const copyFile = on('copyFile')
/** Copies a file or directory tree (node:fs/promises `cp`; runs on node:fs). */
export const cp = on('cp')
/** node:fs/promises `lchmod` (runs on node:fs). */
export const lchmod = on('lchmod')
/** Changes a symlink's owner (node:fs/promises `lchown`; runs on node:fs). */
export const lchown = on('lchown')
/** Changes a symlink's times (node:fs/promises `lutimes`; runs on node:fs). */
export const lutimes = on('lutimes')
/** Creates a unique temporary directory (node:fs/promises `mkdtemp`; runs on node:fs). */
export const mkdtemp = on('mkdtemp')
/** Opens a directory for iteration (node:fs/promises `opendir`; runs on node:fs). */
export const opendir = on('opendir')
/** Lists a directory (node:fs/promises `readdir`; `withFileTypes`, `recursive`; runs on node:fs). */
export const readdir = on('readdir')
/** Reads a symlink's target (node:fs/promises `readlink`; runs on node:fs). */
export const readlink = on('readlink')
/** Resolves a path to its canonical form (node:fs/promises `realpath`; runs on node:fs). */
export const realpath = on('realpath')
/** Removes files and directories (node:fs/promises `rm`; runs on node:fs). */
export const rm = on('rm')
/** Stats a file system (node:fs/promises `statfs`; runs on node:fs). */
export const statfs = on('statfs')
/** Changes a path's times (node:fs/promises `utimes`; runs on node:fs). */
export const utimes = on('utimes')
/** node:fs `watch` (an async iterator; not a ring op). */
export const watch = nodeFsP.watch
/** node:fs `glob` on Node 22+; undefined on Node 20, as in node:fs/promises. */
export const glob: FsApi['glob'] = (nodeFsP as Record<string, any>).glob
/** `mkdtempDisposable` on Node 24+; undefined before, as in node:fs/promises. */
export const mkdtempDisposable: FsApi['mkdtempDisposable'] = (nodeFsP as Record<string, any>).mkdtempDisposable === undefined ? undefined : on('mkdtempDisposable')
/** `fs.constants`. */
export const constants = fsConstants
