// Stats objects identical to node:fs's (same class, same fields, same order), built from the
// kernel's `struct statx`.
import { Stats } from 'node:fs'

/** Size of `struct statx`. */
export const STATX_SIZE = 256
/** STATX_BASIC_STATS | STATX_BTIME, as libuv asks. */
export const STATX_MASK = 0xfff
export const AT_SYMLINK_NOFOLLOW = 0x100
export const AT_EMPTY_PATH = 0x1000

/** Node 22+ computes `atime`... from `atimeMs`... on first use (getters on the prototype). */
const LAZY_DATES = typeof Object.getOwnPropertyDescriptor(Stats.prototype, 'atime')?.get === 'function'

function makedev(major: number, minor: number): number {
  // glibc's makedev, in doubles (exact below 2^53).
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor & 0xffffff00) * 4096 + (major & 0xfffff000) * 2 ** 32
}

function ms(v: DataView, off: number): number {
  return Number(v.getBigInt64(off, true)) * 1e3 + v.getUint32(off + 8, true) / 1e6
}

/** A `fs.Stats` from the numbers Node itself would report. */
export function makeStats(
  dev: number,
  mode: number,
  nlink: number,
  uid: number,
  gid: number,
  rdev: number,
  blksize: number,
  ino: number,
  size: number,
  blocks: number,
  atimeMs: number,
  mtimeMs: number,
  ctimeMs: number,
  birthtimeMs: number,
): Stats {
  // Same prototype as Node's own (instanceof fs.Stats, isFile(), ...), without calling the
  // deprecated constructor.
  const s = Object.create(Stats.prototype) as Stats
  s.dev = dev
  s.mode = mode
  s.nlink = nlink
  s.uid = uid
  s.gid = gid
  s.rdev = rdev
  s.blksize = blksize
  s.ino = ino
  s.size = size
  s.blocks = blocks
  s.atimeMs = atimeMs
  s.mtimeMs = mtimeMs
  s.ctimeMs = ctimeMs
  s.birthtimeMs = birthtimeMs
  if (!LAZY_DATES) {
    s.atime = new Date(Math.round(atimeMs))
    s.mtime = new Date(Math.round(mtimeMs))
    s.ctime = new Date(Math.round(ctimeMs))
    s.birthtime = new Date(Math.round(birthtimeMs))
  }
  return s
}

/** Decodes a `struct statx` written by the kernel. */
export function statsFromStatx(buf: Uint8Array): Stats {
  const v = new DataView(buf.buffer, buf.byteOffset, STATX_SIZE)
  return makeStats(
    makedev(v.getUint32(136, true), v.getUint32(140, true)),
    v.getUint16(28, true),
    v.getUint32(16, true),
    v.getUint32(20, true),
    v.getUint32(24, true),
    makedev(v.getUint32(128, true), v.getUint32(132, true)),
    v.getUint32(4, true),
    Number(v.getBigUint64(32, true)),
    Number(v.getBigUint64(40, true)),
    Number(v.getBigUint64(48, true)),
    ms(v, 64),
    ms(v, 112),
    ms(v, 96),
    ms(v, 80),
  )
}
