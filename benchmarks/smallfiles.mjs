// Benchmark: readFile of many small files (default 10,000 of 4 KiB, page-cached) at
// concurrency 1 and 64, for every contender in the same run:
//   uring/fs                the default ring (readFile of a path: one linked submission)
//   uring, submitThread off a Ring({ submitThread: false }) (DEFER_TASKRUN: all kernel work inline)
//   node:fs/promises        Node's own readFile (libuv thread pool), in this process
//   uring batch             ring.batch() of 32 readFile ops, two batches in flight (default and
//                           submitThread: false rings)
//   bun                     Bun's node:fs/promises readFile, in a child (when .runtimes/bun holds
//                           it: see BUN_HOW in lib.mjs; --no-bun skips it)
// Prints files/s (median of --repeat runs per cell) and checks issue #3's target: uring/fs >= 2x
// Bun (or, without Bun, >= 8x node:fs/promises). Usage: node benchmarks/smallfiles.mjs
// [--files 10000] [--size 4096] [--repeat 3] [--no-bun]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { readFile as nodeReadFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Ring, defaultRing } from 'uring'
import { readFile as uringReadFile } from 'uring/fs'
import { bunBinary, emit } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    size: { type: 'string', default: '4096' },
    repeat: { type: 'string', default: '3' },
    'no-bun': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
})
const N = Number(args.files)
const SIZE = Number(args.size)
const REPEAT = Number(args.repeat)
const CONCS = [1, 64]

/** `n` files of `size` random bytes in .bench-data, created once, then read once to warm them. */
function smallFiles(n, size) {
  const dir = path.join(root, '.bench-data', `small-${n}x${size}`)
  fs.mkdirSync(dir, { recursive: true })
  const names = Array.from({ length: n }, (_, i) => path.join(dir, `f${String(i).padStart(6, '0')}`))
  for (const f of names) if (!fs.existsSync(f) || fs.statSync(f).size !== size) fs.writeFileSync(f, Buffer.from(Array.from({ length: size }, () => (Math.random() * 256) | 0)))
  for (const f of names) fs.readFileSync(f)
  return names
}

/** Reads every file with `conc` loops of `await readFile(f)`; returns files/s. */
async function rate(readFile, names, conc) {
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (i < names.length) {
        const b = await readFile(names[i++])
        if (b.length !== SIZE) throw new Error(`read ${b.length} bytes`)
      }
    }),
  )
  return names.length / ((performance.now() - t0) / 1000)
}

/** Reads every file through the batch API: `loops` loops of `await ring.batch(32 readFile ops)`. */
async function batchRate(ring, names, size = 32, loops = 2) {
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (i < names.length) {
        const ops = names.slice(i, (i += size)).map((path) => ({ op: 'readFile', path }))
        for (const r of await ring.batch(ops)) if (r.status !== 'fulfilled' || r.value.length !== SIZE) throw new Error(`readFile: ${r.reason ?? r.value.length}`)
      }
    }),
  )
  return names.length / ((performance.now() - t0) / 1000)
}

async function batchCells(ring, names) {
  await batchRate(ring, names) // warm-up
  const runs = []
  for (let k = 0; k < REPEAT; k++) runs.push(await batchRate(ring, names))
  runs.sort((a, b) => a - b)
  return { batch: runs[Math.floor(runs.length / 2)] }
}

async function cells(readFile, names) {
  await rate(readFile, names, 64) // warm-up
  const out = {}
  for (const c of CONCS) {
    const runs = []
    for (let k = 0; k < REPEAT; k++) runs.push(await rate(readFile, names, c))
    runs.sort((a, b) => a - b)
    out[c] = runs[Math.floor(runs.length / 2)]
  }
  return out
}

if (args.child) {
  // A contender in another runtime: node:fs/promises readFile of the same files.
  process.stdout.write(
    JSON.stringify(
      await cells(
        nodeReadFile,
        fs
          .readdirSync(args.child)
          .map((f) => path.join(args.child, f))
          .sort(),
      ),
    ),
  )
  process.exit(0)
}

const names = smallFiles(N, SIZE)
const inline = new Ring({ submitThread: false })
const bunBin = args['no-bun'] ? undefined : bunBinary(root)
const contenders = [
  { name: 'uring/fs (default ring)', run: () => cells(uringReadFile, names) },
  { name: 'uring, submitThread: false', run: () => cells(inline.fs.readFile, names) },
  { name: 'node:fs/promises', run: () => cells(nodeReadFile, names) },
  { name: 'uring batch (default ring)', run: () => batchCells(defaultRing(), names) },
  { name: 'uring batch, submitThread: false', run: () => batchCells(inline, names) },
]
if (bunBin) {
  const version = execFileSync(bunBin, ['--version'], { encoding: 'utf8' }).trim()
  contenders.push({
    name: `bun ${version}`,
    run: async () => JSON.parse(execFileSync(bunBin, [fileURLToPath(import.meta.url), '--child', path.dirname(names[0]), '--repeat', String(REPEAT), '--size', String(SIZE)], { encoding: 'utf8' })),
  })
}
const results = []
for (const c of contenders) results.push({ name: c.name, r: await c.run() })
await inline.close()

const fmt = (n) => `${Math.round(n / 1e3)}k`
console.log(`readFile of ${N} files of ${SIZE} B (page cache), median of ${REPEAT} per cell`)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}; default ring: ${defaultRing().backend} (${defaultRing().mode})`)
console.log('')
const COLS = [...CONCS, 'batch']
const head = ['contender', ...COLS.map((c) => (c === 'batch' ? 'batches of 32 x2 files/s' : `conc${c} files/s`))]
const rows = results.map(({ name, r }) => [name, ...COLS.map((c) => (r[c] === undefined ? '-' : fmt(r[c])))])
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
const line = (row) => `| ${row.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`
console.log(line(head))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const row of rows) console.log(line(row))
console.log('')
emit(
  `readFile of ${N} files of ${SIZE} B, concurrency 1`,
  'files/s',
  'uring/fs (default ring)',
  results.filter(({ r }) => r[1] !== undefined).map(({ name, r }) => ({ contender: name, value: r[1] })),
)
emit(
  `readFile of ${N} files of ${SIZE} B, concurrency 64 (and batches)`,
  'files/s',
  'uring/fs (default ring)',
  results.map(({ name, r }) => ({ contender: name, value: r[64] ?? r.batch })),
)
const u = results[0].r
const best = results[1].r
const peer = bunBin ? results[5] : results[2]
const factor = bunBin ? 2 : 8
for (const c of CONCS) {
  const ratio = u[c] / peer.r[c]
  const ratioInline = best[c] / peer.r[c]
  console.log(`${ratio >= factor ? 'PASS' : 'MISS'}  conc${c}: uring/fs ${ratio.toFixed(2)}x ${peer.name} (submitThread: false ${ratioInline.toFixed(2)}x; target >= ${factor}x)`)
}
const batchBest = Math.max(results[3].r.batch, results[4].r.batch)
console.log(`${batchBest >= factor * peer.r[64] ? 'PASS' : 'MISS'}  batch API: ${(batchBest / peer.r[64]).toFixed(2)}x ${peer.name} at conc64 (target >= ${factor}x)`)
