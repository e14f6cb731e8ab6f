// Benchmark: the other file workloads of issue #3, each for every contender in the same run:
//   stat     stat of 10,000 files (the small-file set of smallfiles.mjs): 64 loops of `await stat(f)`,
//            and for uring also ring.batch() of 64 stat ops at a time
//   write    1 GiB written in 1 MiB chunks through a FileHandle (sequential `await fh.write`),
//            then `fh.sync()`; MiB/s over the whole, fsync included
//   wal      a write-ahead log: 4 KiB records appended, fdatasync after every 16; for uring
//            also as one `fh.link([16 writes, fdatasync])` per group
//   walk     readdir(withFileTypes) of each folder of a 100 x 100 tree, 16 folders at a time, and
//            a stat of each file found; files/s
//   install  what a package install does: mkdir -p of 500 folders (5 x 100), then writeFile of
//            10,000 files of 4 KiB into them, 64 at a time; files/s (folders made anew each run)
// Contenders: uring/fs (default ring), node:fs/promises, and Bun's node:fs/promises when it is
// in .runtimes/bun (see BUN_HOW in lib.mjs). Median of --repeat runs per cell.
// Usage: node benchmarks/fsops.mjs [--repeat 3] [--write-mib 1024] [--wal-records 4096] [--no-bun]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import * as nodeFsP from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bunBinary, emit } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    'write-mib': { type: 'string', default: '1024' },
    'wal-records': { type: 'string', default: '4096' },
    files: { type: 'string', default: '10000' },
    'no-bun': { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
})
const REPEAT = Number(args.repeat)
const WRITE_MIB = Number(args['write-mib'])
const WAL_RECORDS = Number(args['wal-records'])
const N = Number(args.files)
const scratch = path.join(root, '.bench-data', 'fsops')
const smallDir = path.join(root, '.bench-data', `small-${N}x4096`)

function median(xs) {
  xs.sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)]
}

async function repeat(f) {
  await f() // warm-up
  const runs = []
  for (let i = 0; i < REPEAT; i++) runs.push(await f())
  return median(runs)
}

/** stat of every file, `conc` loops; files/s. */
async function statRate(stat, names, conc = 64) {
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (i < names.length) if ((await stat(names[i++])).size !== 4096) throw new Error('size')
    }),
  )
  return names.length / ((performance.now() - t0) / 1000)
}

/** stat through ring.batch, 64 ops a batch, two in flight; files/s. */
async function statBatchRate(ring, names) {
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    [0, 1].map(async () => {
      while (i < names.length) {
        const ops = names.slice(i, (i += 64)).map((p) => ({ op: 'stat', path: p }))
        for (const r of await ring.batch(ops)) if (r.status !== 'fulfilled' || r.value.size !== 4096) throw new Error(`stat: ${r.reason}`)
      }
    }),
  )
  return names.length / ((performance.now() - t0) / 1000)
}

/** 1 MiB writes to a new file, then fsync; MiB/s. */
async function writeRate(open, file) {
  const chunk = Buffer.alloc(1 << 20, 0x5a)
  const t0 = performance.now()
  const fh = await open(file, 'w')
  for (let i = 0; i < WRITE_MIB; i++) {
    const { bytesWritten } = await fh.write(chunk, 0, chunk.length, null)
    if (bytesWritten !== chunk.length) throw new Error('short write')
  }
  await fh.sync()
  await fh.close()
  const rate = WRITE_MIB / ((performance.now() - t0) / 1000)
  fs.rmSync(file)
  return rate
}

/** WAL: 4 KiB appends, fdatasync after every 16; records/s. `linked`: one fh.link per group. */
async function walRate(open, file, linked = false) {
  const rec = Buffer.alloc(4096, 0x42)
  fs.rmSync(file, { force: true }) // a run that threw left its log behind: start empty
  const fh = await open(file, 'a')
  const t0 = performance.now()
  if (linked) {
    const group = [...Array.from({ length: 16 }, () => ({ op: 'write', buffer: rec })), { op: 'fdatasync' }]
    for (let i = 0; i < WAL_RECORDS; i += 16) {
      for (const r of await fh.link(group)) if (r.status !== 'fulfilled') throw r.reason
    }
  } else {
    for (let i = 1; i <= WAL_RECORDS; i++) {
      await fh.write(rec, 0, rec.length, null)
      if (i % 16 === 0) await fh.datasync()
    }
  }
  const rate = WAL_RECORDS / ((performance.now() - t0) / 1000)
  await fh.close()
  if (fs.statSync(file).size !== WAL_RECORDS * 4096) throw new Error('wal size')
  fs.rmSync(file)
  return rate
}

/** A 100 x 100 tree (folders d0..d99, each with 100 files of 64 bytes), made once. */
function walkTree() {
  const top = path.join(root, '.bench-data', 'walk-100x100')
  if (!fs.existsSync(path.join(top, 'd99', 'f99'))) {
    for (let d = 0; d < 100; d++) {
      fs.mkdirSync(path.join(top, `d${d}`), { recursive: true })
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(top, `d${d}`, `f${f}`), Buffer.alloc(64, d))
    }
  }
  return top
}

/** readdir(withFileTypes) of each folder (16 at a time) and a stat of each file; files/s. */
async function walkRate(fsx, top) {
  const dirs = (await fsx.readdir(top)).map((d) => path.join(top, d))
  let i = 0
  let files = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < dirs.length) {
        const dir = dirs[i++]
        const entries = await fsx.readdir(dir, { withFileTypes: true })
        const stats = await Promise.all(entries.filter((e) => e.isFile()).map((e) => fsx.stat(path.join(dir, e.name))))
        for (const st of stats) if (st.size !== 64) throw new Error('walk: size')
        files += stats.length
      }
    }),
  )
  if (files !== 10000) throw new Error(`walk: ${files} files`)
  return files / ((performance.now() - t0) / 1000)
}

/** mkdir -p of 500 folders, then 10,000 writeFile of 4 KiB, 64 at a time; files/s. */
async function installRate(fsx, top) {
  fs.rmSync(top, { recursive: true, force: true })
  const data = Buffer.alloc(4096, 0x61)
  const t0 = performance.now()
  const dirs = []
  for (let a = 0; a < 5; a++) for (let b = 0; b < 100; b++) dirs.push(path.join(top, `p${a}`, `m${b}`))
  let i = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (i < dirs.length) await fsx.mkdir(dirs[i++], { recursive: true })
    }),
  )
  let n = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (n < 10000) {
        const k = n++
        await fsx.writeFile(path.join(dirs[k % 500], `f${k}.js`), data)
      }
    }),
  )
  const rate = 10000 / ((performance.now() - t0) / 1000)
  if (fs.readdirSync(dirs[499]).length !== 20) throw new Error('install: files')
  fs.rmSync(top, { recursive: true, force: true })
  return rate
}

function names() {
  if (!fs.existsSync(smallDir)) execFileSync(process.execPath, [path.join(here, 'smallfiles.mjs'), '--files', String(N), '--repeat', '1', '--no-bun'], { stdio: 'ignore' })
  return fs
    .readdirSync(smallDir)
    .sort()
    .map((f) => path.join(smallDir, f))
}

/** node:fs/promises in this runtime (also what the Bun child runs). */
async function nodeCells(tag) {
  fs.mkdirSync(scratch, { recursive: true })
  const list = names()
  return {
    stat: await repeat(() => statRate(nodeFsP.stat, list)),
    write: await repeat(() => writeRate(nodeFsP.open, path.join(scratch, `big-${tag}`))),
    wal: await repeat(() => walRate(nodeFsP.open, path.join(scratch, `wal-${tag}`))),
    walk: await repeat(() => walkRate(nodeFsP, walkTree())),
    install: await repeat(() => installRate(nodeFsP, path.join(scratch, `install-${tag}`))),
  }
}

if (args.child) {
  process.stdout.write(JSON.stringify(await nodeCells('child')))
  process.exit(0)
}

const { defaultRing } = await import('uring')
const ufs = await import('uring/fs')
fs.mkdirSync(scratch, { recursive: true })
const list = names()
const ring = defaultRing()
const results = []
results.push({
  name: 'uring/fs (default ring)',
  stat: await repeat(() => statRate(ufs.stat, list)),
  write: await repeat(() => writeRate(ufs.open, path.join(scratch, 'big-u'))),
  wal: await repeat(() => walRate(ufs.open, path.join(scratch, 'wal-u'))),
  walk: await repeat(() => walkRate(ufs, walkTree())),
  install: await repeat(() => installRate(ufs, path.join(scratch, 'install-u'))),
})
results.push({
  name: 'uring batch / link (default ring)',
  stat: await repeat(() => statBatchRate(ring, list)),
  wal: await repeat(() => walRate(ufs.open, path.join(scratch, 'wal-l'), true)),
})
results.push({ name: 'node:fs/promises', ...(await nodeCells('n')) })
const bunBin = args['no-bun'] ? undefined : bunBinary(root)
if (bunBin) {
  const version = execFileSync(bunBin, ['--version'], { encoding: 'utf8' }).trim()
  const out = execFileSync(
    bunBin,
    [fileURLToPath(import.meta.url), '--child', '--repeat', String(REPEAT), '--write-mib', String(WRITE_MIB), '--wal-records', String(WAL_RECORDS), '--files', String(N)],
    { encoding: 'utf8' },
  )
  results.push({ name: `bun ${version}`, ...JSON.parse(out) })
}

const fmtK = (n) => (n === undefined ? '-' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`)
console.log(
  `stat of ${N} files (conc 64), ${WRITE_MIB} MiB write in 1 MiB chunks + fsync, WAL of ${WAL_RECORDS} 4 KiB appends with fdatasync every 16, walk of a 100 x 100 tree, install-like (500 mkdir -p, 10,000 writeFile of 4 KiB); median of ${REPEAT}`,
)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}; default ring: ${ring.backend} (${ring.mode})`)
console.log('')
const head = ['contender', 'stat files/s', 'write MiB/s', 'WAL records/s', 'walk files/s', 'install files/s']
const rows = results.map((r) => [r.name, fmtK(r.stat), r.write === undefined ? '-' : String(Math.round(r.write)), fmtK(r.wal), fmtK(r.walk), fmtK(r.install)])
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
const line = (row) => `| ${row.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`
console.log(line(head))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const row of rows) console.log(line(row))
emit(
  `stat of ${N} files`,
  'files/s',
  'uring/fs (default ring)',
  results.map((r) => ({ contender: r.name, value: r.stat })),
)
emit(
  `write ${WRITE_MIB} MiB in 1 MiB chunks + fsync`,
  'MiB/s',
  'uring/fs (default ring)',
  results.map((r) => ({ contender: r.name, value: r.write })),
)
emit(
  `WAL: 4 KiB appends, fdatasync every 16`,
  'records/s',
  'uring/fs (default ring)',
  results.map((r) => ({ contender: r.name, value: r.wal })),
)
emit(
  'walk: readdir(withFileTypes) of a 100 x 100 tree + stat of each file',
  'files/s',
  'uring/fs (default ring)',
  results.filter((r) => r.walk !== undefined).map((r) => ({ contender: r.name, value: r.walk })),
)
emit(
  'install-like: mkdir -p of 500 folders + 10,000 writeFile of 4 KiB',
  'files/s',
  'uring/fs (default ring)',
  results.filter((r) => r.install !== undefined).map((r) => ({ contender: r.name, value: r.install })),
)
fs.rmSync(scratch, { recursive: true, force: true })
