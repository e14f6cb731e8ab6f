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

/** The 64-bit unsigned field at `off` as a double (rounded once, as `Number(bigint)`): no BigInt. */
function u64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 4294967296
}

/** A `statx_timestamp` at `off` in milliseconds (its seconds are signed). */
function ms(v: DataView, off: number): number {
  return (v.getUint32(off, true) + v.getInt32(off + 4, true) * 4294967296) * 1e3 + v.getUint32(off + 8, true) / 1e6
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

/** Decodes the `struct statx` at byte `o` of `v` (the ring's stat area: settle.ts). */
export function statsFromStatx(v: DataView, o: number): Stats {
  return makeStats(
    makedev(v.getUint32(o + 136, true), v.getUint32(o + 140, true)),
    v.getUint16(o + 28, true),
    v.getUint32(o + 16, true),
    v.getUint32(o + 20, true),
    v.getUint32(o + 24, true),
    makedev(v.getUint32(o + 128, true), v.getUint32(o + 132, true)),
    v.getUint32(o + 4, true),
    u64(v, o + 32),
    u64(v, o + 40),
    u64(v, o + 48),
    ms(v, o + 64),
    ms(v, o + 112),
    ms(v, o + 96),
    ms(v, o + 80),
  )
}
