// The differential suite's recorder: a scenario body runs against node:fs/promises and against
// uring/fs, each in its own folder, and records every step's outcome in a form that does not
// depend on the folder, the inode numbers or the clock. Two runs agree when their records do.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'

export type Entry = [label: string, outcome: unknown]

/** What a scenario body gets: the fs under test, its folder, and the recorder. */
export interface Run {
  /** node:fs/promises or a uring FsApi (the same surface). */
  fs: typeof import('node:fs/promises')
  dir: string
  /**
   * Records what `f()` gave: a value, a rejection, or a synchronous throw. With `deviation`, only
   * which of the three it was: for the few calls where node:fs itself misbehaves (the reason says
   * how) and uring deliberately does better; other tests check uring's result there.
   */
  step(label: string, f: () => unknown, deviation?: string): Promise<unknown>
  /** Records a value computed by the body itself. */
  note(label: string, value: unknown): void
}

export function recorder(fsImpl: Run['fs'], dir: string): { run: Run; entries: Entry[] } {
  const entries: Entry[] = []
  const norm = (v: unknown) => normalize(v, dir)
  const run: Run = {
    fs: fsImpl,
    dir,
    async step(label, f, deviation) {
      const push = (kind: string, v: unknown) => entries.push([label, deviation === undefined ? { [kind]: norm(v) } : { deviation, kind }])
      let p: unknown
      try {
        p = f()
      } catch (e) {
        push('threwSync', e)
        return undefined
      }
      try {
        const v = await p
        push('value', v)
        return v
      } catch (e) {
        push('rejected', e)
        return undefined
      }
    },
    note(label, value) {
      entries.push([label, norm(value)])
    },
  }
  return { run, entries }
}

/** mkdtemp's six random characters after a `tmp-` prefix. */
const MKDTEMP = /(tmp-)[A-Za-z0-9]{6}/g

const sha = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex').slice(0, 16)

const STAT_FIELDS = ['mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks'] as const
const TYPE_TESTS = ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isBlockDevice', 'isCharacterDevice'] as const

/** A folder-free, clock-free, inode-free picture of `v`. */
export function normalize(v: unknown, dir: string): unknown {
  if (typeof v === 'string') return v.split(dir).join('<dir>').replace(MKDTEMP, '$1XXXXXX')
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? `[function ${v.name}]` : v
  if (v instanceof Error) {
    const e = v as NodeJS.ErrnoException & { dest?: string }
    return {
      class: e.constructor.name,
      name: e.name,
      code: e.code,
      errno: e.errno,
      syscall: e.syscall,
      path: normalize(e.path, dir),
      dest: normalize(e.dest, dir),
      message: normalize(e.message, dir),
      ownKeys: Object.keys(e).sort(),
      cause: e.cause === undefined ? undefined : normalize(e.cause, dir),
    }
  }
  if (ArrayBuffer.isView(v)) {
    const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    return { view: v.constructor.name, length: b.length, sha: sha(b), head: Buffer.from(b.subarray(0, 16)).toString('hex') }
  }
  if (v instanceof fs.Stats || isStatsLike(v)) {
    const s = v as fs.Stats
    const out: Record<string, unknown> = { class: 'Stats', bigint: typeof s.size === 'bigint', keys: Object.keys(s).sort() }
    for (const f of STAT_FIELDS) out[f] = s[f]
    for (const f of TYPE_TESTS) out[f] = s[f]()
    out.timesAreDates = s.mtime instanceof Date && s.atime instanceof Date && s.ctime instanceof Date && s.birthtime instanceof Date
    return out
  }
  if (v instanceof fs.Dirent) {
    const d = v as fs.Dirent & { parentPath?: string }
    const out: Record<string, unknown> = {
      class: 'Dirent',
      keys: Object.keys(d).sort(),
      name: normalize(d.name, dir),
      parentPath: Buffer.isBuffer(d.parentPath) ? { buffer: normalize(String(d.parentPath), dir) } : normalize(d.parentPath, dir),
    }
    for (const f of TYPE_TESTS) out[f] = d[f]()
    return out
  }
  if (Array.isArray(v)) return v.map((x) => normalize(x, dir))
  const name = v.constructor?.name
  if (name === 'FileHandle' || name === 'Dir' || name === 'StatFs') {
    if (name === 'StatFs') return { class: name, keys: Object.keys(v).sort(), type: (v as { type: number }).type, bsize: (v as { bsize: number }).bsize }
    return { class: name }
  }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v).sort()) out[k] = normalize((v as Record<string, unknown>)[k], dir)
  return out
}

function isStatsLike(v: object): boolean {
  return typeof (v as fs.Stats).isFile === 'function' && 'nlink' in v && 'blksize' in v
}

/** Everything under `dir`: names, types, permission bits, sizes, link counts, contents, link targets. */
export function tree(dir: string): unknown[] {
  const out: unknown[] = []
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name
      const p = join(dir, r)
      const st = fs.lstatSync(p)
      const e: Record<string, unknown> = { path: r.replace(MKDTEMP, '$1XXXXXX'), mode: st.mode.toString(8), nlink: st.nlink }
      if (st.isSymbolicLink()) e.target = normalize(fs.readlinkSync(p), dir)
      else if (st.isFile()) {
        e.size = st.size
        e.sha = sha(fs.readFileSync(p))
      }
      out.push(e)
      if (st.isDirectory()) walk(r)
    }
  }
  walk('')
  return out
}
