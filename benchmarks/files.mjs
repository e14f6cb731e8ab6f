// Benchmark: the file scenarios of an app's day, each contender in a fresh process per run, rounds
// interleaved (lib.mjs `interleaved`), median and min-max of --rounds runs:
//   stat       stat of 10,000 files of 4 KiB: 64 loops of `await stat(f)`
//   readFile1  readFile of the same 10,000 files, one at a time
//   readFile64 the same, 64 loops
//   walk       readdir(withFileTypes) of each folder of a 100 x 100 tree, 16 folders at a time,
//              and a stat of each file found; files/s
//   install    what a package install does: mkdir -p of 500 folders (5 x 100), then writeFile of
//              10,000 files of 4 KiB into them, 64 at a time; files/s (folders made anew each run)
//   write      256 MiB written in 1 MiB chunks through a FileHandle (sequential `await fh.write`),
//              then `fh.sync()`; MiB/s, fsync included
//   wal        a write-ahead log: 4 KiB records appended, fdatasync after every 16; records/s
// Contenders: uring/fs (default ring); uring's batch API where it fits (stat as ring.batch of
// 64, readFile of 32, two in flight; the WAL as one fh.link per group); the big write from a
// ring.allocBuffer() chunk (written in place; a plain Buffer's bytes are copied into memory the
// op owns before the kernel copies them, so that it may be changed mid-write); a Ring({ submitThread:
// false }) for readFile (DEFER_TASKRUN: all kernel work inline); uring with URING_EXECUTOR=0 for stat and
// walk (STATX through io-wq, for comparison); node:fs/promises; Bun's node:fs/promises when it
// is in .runtimes/bun (see BUN_HOW in lib.mjs). Each run (a fresh process) repeats the work for
// 0.5 s to warm up, then for 1 s measured, and gives the median of those passes. Data is
// page-cached (made once in .bench-data).
// Usage: node benchmarks/files.mjs [--rounds 5] [--only stat,walk] [--files 10000]
//        [--write-mib 256] [--wal-records 4096] [--scratch DIR] [--no-bun]
// --scratch: where install, write and wal write (default .bench-data; on a VM disk mounted with
// `discard` their runs vary tenfold for every contender, so a tmpfs shows the library's costs).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bunBinary, emit, interleaved } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    files: { type: 'string', default: '10000' },
    'write-mib': { type: 'string', default: '256' },
    'wal-records': { type: 'string', default: '4096' },
    scratch: { type: 'string' },
    'no-bun': { type: 'boolean', default: false },
    cell: { type: 'string' }, // child: "scenario:contender"
  },
})
const N = Number(args.files)
const WRITE_MIB = Number(args['write-mib'])
const WAL_RECORDS = Number(args['wal-records'])
const data = path.join(root, '.bench-data')
/** Where install, write and wal write (`--scratch`: e.g. a tmpfs, to leave the disk out). */
const scratch = path.resolve(args.scratch ?? data)
const smallDir = path.join(data, `small-${N}x4096`)
const treeDir = path.join(data, 'walk-100x100')
const WARM_MS = 500
const MEASURE_MS = 1000
const rate = (n, t0) => n / ((performance.now() - t0) / 1000)

/** `conc` loops taking the next item until none is left. */
async function loops(conc, items, each) {
  let i = 0
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (i < items.length) await each(items[i++])
    }),
  )
}

/** `op(f)` of every file, 64 in flight, each result's `size(r)` checked to be 4096; files/s. */
async function eachRate(names, op, size) {
  const t0 = performance.now()
  await loops(64, names, async (f) => {
    if (size(await op(f)) !== 4096) throw new Error('size')
  })
  return rate(names.length, t0)
}

/** The same through ring.batch: batches of `per` ops of kind `op`, two in flight; files/s. */
async function batchRate(ring, names, op, per, size) {
  const t0 = performance.now()
  await loops(2, chunks(names, per), async (part) => {
    for (const r of await ring.batch(part.map((p) => ({ op, path: p })))) if (r.status !== 'fulfilled' || size(r.value) !== 4096) throw new Error(`${op}: ${r.reason}`)
  })
  return rate(names.length, t0)
}

/** The work of each scenario, given an fs API (`x`: node:fs/promises' shape) and the ring, if any. */
const SCENARIOS = {
  stat: {
    title: `stat of ${N} files, 64 in flight`,
    unit: 'files/s',
    run: (x, names) =>
      eachRate(
        names,
        (f) => x.stat(f),
        (st) => st.size,
      ),
    batch: (ring, names) => batchRate(ring, names, 'stat', 64, (st) => st.size),
  },
  readFile1: {
    title: `readFile of ${N} files of 4 KiB, one at a time`,
    unit: 'files/s',
    async run(x, names) {
      const t0 = performance.now()
      for (const f of names) if ((await x.readFile(f)).length !== 4096) throw new Error('readFile: size')
      return rate(names.length, t0)
    },
  },
  readFile64: {
    title: `readFile of ${N} files of 4 KiB, 64 in flight`,
    unit: 'files/s',
    run: (x, names) =>
      eachRate(
        names,
        (f) => x.readFile(f),
        (b) => b.length,
      ),
    batch: (ring, names) => batchRate(ring, names, 'readFile', 32, (b) => b.length),
  },
  walk: {
    title: 'walk: readdir(withFileTypes) of a 100 x 100 tree + stat of each file',
    unit: 'files/s',
    async run(x) {
      const dirs = (await x.readdir(treeDir)).map((d) => path.join(treeDir, d))
      let files = 0
      const t0 = performance.now()
      await loops(16, dirs, async (dir) => {
        const entries = await x.readdir(dir, { withFileTypes: true })
        const stats = await Promise.all(entries.filter((e) => e.isFile()).map((e) => x.stat(path.join(dir, e.name))))
        for (const st of stats) if (st.size !== 64) throw new Error('walk: size')
        files += stats.length
      })
      if (files !== 10000) throw new Error(`walk: ${files} files`)
      return rate(files, t0)
    },
  },
  install: {
    title: 'install-like: mkdir -p of 500 folders + 10,000 writeFile of 4 KiB',
    unit: 'files/s',
    async run(x, _names, tag) {
      const top = path.join(scratch, `install-${process.pid}-${tag}`)
      fs.rmSync(top, { recursive: true, force: true })
      const bytes = Buffer.alloc(4096, 0x61)
      const dirs = []
      for (let a = 0; a < 5; a++) for (let b = 0; b < 100; b++) dirs.push(path.join(top, `p${a}`, `m${b}`))
      const t0 = performance.now()
      await loops(64, dirs, (d) => x.mkdir(d, { recursive: true }))
      await loops(
        64,
        Array.from({ length: 10000 }, (_, k) => k),
        (k) => x.writeFile(path.join(dirs[k % 500], `f${k}.js`), bytes),
      )
      const r = rate(10000, t0)
      if (fs.readdirSync(dirs[499]).length !== 20) throw new Error('install: files')
      fs.rmSync(top, { recursive: true, force: true })
      return r
    },
  },
  write: {
    title: `write ${WRITE_MIB} MiB in 1 MiB chunks + fsync`,
    unit: 'MiB/s',
    async run(x, _names, tag, alloc = (n) => Buffer.alloc(n)) {
      const file = path.join(scratch, `big-${process.pid}-${tag}`)
      const mib = tag === 'warm' ? Math.min(32, WRITE_MIB) : WRITE_MIB
      const chunk = alloc(1 << 20).fill(0x5a)
      const t0 = performance.now()
      const fh = await x.open(file, 'w')
      for (let i = 0; i < mib; i++) if ((await fh.write(chunk, 0, chunk.length, null)).bytesWritten !== chunk.length) throw new Error('short write')
      await fh.sync()
      await fh.close()
      const r = rate(mib, t0)
      fs.rmSync(file)
      return r
    },
    zerocopy: (ring, names, tag) => SCENARIOS.write.run(ring.fs, names, tag, (n) => ring.allocBuffer(n)),
  },
  wal: {
    title: 'WAL: 4 KiB appends, fdatasync every 16',
    unit: 'records/s',
    async run(x, _names, tag, linked = undefined) {
      const file = path.join(scratch, `wal-${process.pid}-${tag}`)
      const rec = Buffer.alloc(4096, 0x42)
      fs.rmSync(file, { force: true })
      const fh = await x.open(file, 'a')
      const t0 = performance.now()
      if (linked) {
        const group = [...Array.from({ length: 16 }, () => ({ op: 'write', buffer: rec })), { op: 'fdatasync' }]
        for (let i = 0; i < WAL_RECORDS; i += 16) for (const r of await fh.link(group)) if (r.status !== 'fulfilled') throw r.reason
      } else {
        for (let i = 1; i <= WAL_RECORDS; i++) {
          await fh.write(rec, 0, rec.length, null)
          if (i % 16 === 0) await fh.datasync()
        }
      }
      const r = rate(WAL_RECORDS, t0)
      await fh.close()
      if (fs.statSync(file).size !== WAL_RECORDS * 4096) throw new Error('wal size')
      fs.rmSync(file)
      return r
    },
    batch: (ring, names, tag) => SCENARIOS.wal.run(ring.fs, names, tag, true),
  },
}

function chunks(xs, n) {
  const out = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}

function smallNames() {
  return fs
    .readdirSync(smallDir)
    .sort()
    .map((f) => path.join(smallDir, f))
}

// A child: one run of one cell, warm-up first; prints RESULT <value>.
if (args.cell) {
  const [scenario, contender] = args.cell.split(':')
  const s = SCENARIOS[scenario]
  const names = smallNames()
  let once
  if (contender === 'node') {
    const x = await import('node:fs/promises')
    once = (tag) => s.run(x, names, tag)
  } else {
    const { Ring, defaultRing } = await import('uring')
    const x = contender === 'inline' ? new Ring({ submitThread: false }).fs : await import('uring/fs')
    once = contender === 'batch' ? (tag) => s.batch(defaultRing(), names, tag) : contender === 'zerocopy' ? (tag) => s.zerocopy(defaultRing(), names, tag) : (tag) => s.run(x, names, tag)
  }
  // Passes until WARM_MS have gone (the JIT tiers up, the ring is set up), then passes for
  // MEASURE_MS: the median of those.
  for (const t = performance.now(); performance.now() - t < WARM_MS; ) await once('warm')
  const passes = []
  for (const t = performance.now(); passes.length === 0 || performance.now() - t < MEASURE_MS; ) passes.push(await once(`p${passes.length}`))
  passes.sort((a, b) => a - b)
  console.log(`RESULT ${passes[Math.floor(passes.length / 2)]}`)
  process.exit(0)
}

// Data, made once and warmed.
fs.mkdirSync(smallDir, { recursive: true })
for (let i = 0; i < N; i++) {
  const f = path.join(smallDir, `f${String(i).padStart(6, '0')}`)
  if (!fs.existsSync(f) || fs.statSync(f).size !== 4096) fs.writeFileSync(f, Buffer.alloc(4096, i & 0xff))
  fs.readFileSync(f)
}
if (!fs.existsSync(path.join(treeDir, 'd99', 'f99'))) {
  for (let d = 0; d < 100; d++) {
    fs.mkdirSync(path.join(treeDir, `d${d}`), { recursive: true })
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(treeDir, `d${d}`, `f${f}`), Buffer.alloc(64, d))
  }
}

const only = args.only?.split(',') ?? Object.keys(SCENARIOS)
for (const o of only) if (!SCENARIOS[o]) throw new Error(`--only: no scenario ${o} (${Object.keys(SCENARIOS).join(', ')})`)
const bun = args['no-bun'] ? undefined : bunBinary(root)
const bunName = bun && `bun ${execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim()}`
const self = fileURLToPath(import.meta.url)
const pass = ['--files', String(N), '--write-mib', String(WRITE_MIB), '--wal-records', String(WAL_RECORDS), '--scratch', scratch]
const cells = []
for (const s of only) {
  const cell = (contender, cmd, who, env = {}) => cells.push({ scenario: s, contender, cmd, args: [self, '--cell', `${s}:${who}`, ...pass], env })
  cell('uring/fs (default ring)', process.execPath, 'uring')
  if (SCENARIOS[s].batch) cell(s === 'wal' ? 'uring fh.link per group' : 'uring ring.batch', process.execPath, 'batch')
  if (SCENARIOS[s].zerocopy) cell('uring, ring.allocBuffer buffers', process.execPath, 'zerocopy')
  if (s.startsWith('readFile')) cell('uring, submitThread: false', process.execPath, 'inline')
  if (s === 'stat' || s === 'walk') cell('uring, STATX on io-wq (URING_EXECUTOR=0)', process.execPath, 'uring', { URING_EXECUTOR: '0' })
  cell('node:fs/promises', process.execPath, 'node')
  if (bun) cell(bunName, bun, 'node')
}
const ROUNDS = Number(args.rounds)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}; ${ROUNDS} interleaved rounds, each run a fresh process`)
const results = await interleaved(cells, ROUNDS, (line) => console.log(line))
console.log('')
const fmt = (n) => (n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0))
for (const { scenario, entries } of results) {
  const s = SCENARIOS[scenario]
  console.log(`${s.title} (${s.unit}): ${entries.map((e) => `${e.contender} ${fmt(e.value)} [${fmt(e.min)}-${fmt(e.max)}]`).join('; ')}`)
  emit(s.title, s.unit, 'uring/fs (default ring)', entries)
}
