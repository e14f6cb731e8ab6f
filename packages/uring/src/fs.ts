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

export const open = on('open')
export const readFile = on('readFile')
export const writeFile = on('writeFile')
export const appendFile = on('appendFile')
export const stat = on('stat')
export const lstat = on('lstat')
export const unlink = on('unlink')
export const rename = on('rename')
export const mkdir = on('mkdir')
export const rmdir = on('rmdir')
export const symlink = on('symlink')
export const link = on('link')
export const truncate = on('truncate')
export const access = on('access')
export const chmod = on('chmod')
export const chown = on('chown')
export const copyFile = on('copyFile')
export const cp = on('cp')
export const lchmod = on('lchmod')
export const lchown = on('lchown')
export const lutimes = on('lutimes')
export const mkdtemp = on('mkdtemp')
export const opendir = on('opendir')
export const readdir = on('readdir')
export const readlink = on('readlink')
export const realpath = on('realpath')
export const rm = on('rm')
export const statfs = on('statfs')
export const utimes = on('utimes')
/** node:fs `watch` (an async iterator; not a ring op). */
export const watch = nodeFsP.watch
/** node:fs `glob` on Node 22+; undefined on Node 20, as in node:fs/promises. */
export const glob: FsApi['glob'] = (nodeFsP as Record<string, any>).glob
/** `mkdtempDisposable` on Node 24+; undefined before, as in node:fs/promises. */
export const mkdtempDisposable: FsApi['mkdtempDisposable'] = (nodeFsP as Record<string, any>).mkdtempDisposable === undefined ? undefined : on('mkdtempDisposable')
/** `fs.constants`. */
export const constants = fsConstants
