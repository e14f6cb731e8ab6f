// `uring/fs`: the node:fs/promises-compatible API on this thread's default ring
// (`defaultRing().fs`). Each call looks the default ring up, so it keeps working after the
// default ring was closed (a new one is made).
import { constants as fsConstants } from 'node:fs'
import type { FsApi } from './fs-api'
import { defaultRing } from './ring'

export { FileHandle } from './fs-api'
export type * from './fs-api'

export const open: FsApi['open'] = (...args) => defaultRing().fs.open(...args)
export const readFile: FsApi['readFile'] = ((...args: Parameters<FsApi['readFile']>) => defaultRing().fs.readFile(...args)) as FsApi['readFile']
export const writeFile: FsApi['writeFile'] = (...args) => defaultRing().fs.writeFile(...args)
export const appendFile: FsApi['appendFile'] = (...args) => defaultRing().fs.appendFile(...args)
export const stat: FsApi['stat'] = ((...args: Parameters<FsApi['stat']>) => defaultRing().fs.stat(...args)) as FsApi['stat']
export const lstat: FsApi['lstat'] = ((...args: Parameters<FsApi['lstat']>) => defaultRing().fs.lstat(...args)) as FsApi['lstat']
export const unlink: FsApi['unlink'] = (...args) => defaultRing().fs.unlink(...args)
export const rename: FsApi['rename'] = (...args) => defaultRing().fs.rename(...args)
export const mkdir: FsApi['mkdir'] = ((...args: Parameters<FsApi['mkdir']>) => defaultRing().fs.mkdir(...args)) as FsApi['mkdir']
export const rmdir: FsApi['rmdir'] = (...args) => defaultRing().fs.rmdir(...args)
/** `fs.constants`. */
export const constants = fsConstants
