// A/B of two builds of uring in one run: FileHandle.read of 4 KiB at qd32 (and qd1) from a
// page-cached file through this checkout's uring and through another checkout's (--base DIR,
// the repository root of e.g. a `git worktree` of the commit before a change), with
// node:fs/promises and Node with UV_USE_IO_URING=1 as peers. Each contender runs in a fresh
// process, rounds interleaved; prints the median and spread of each, the ratios, and the
// difference in cost per read in nanoseconds.
// Usage: node benchmarks/ab.mjs --base /tmp/before [--rounds 7] [--ms 1500] [--qd 1,32]
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { dataFile } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '1500' },
    qd: { type: 'string', default: '1,32' },
    mib: { type: 'string', default: '256' },
    touch: { type: 'boolean', default: false },
  },
})
// --touch: every contender reads a byte of each cache line after each read (a real consumer).
const t = args.touch ? ':touch' : ''
if (!args.base) throw new Error('--base DIR (the other checkout) is required')
const file = dataFile(path.join(here, '..', '.bench-data'), Number(args.mib))
const contenders = [
  { name: 'uring (this checkout)', root: path.join(here, '..', 'packages/uring') + (t && `:plain${t}`) },
  { name: `uring (${args.base})`, root: path.join(args.base, 'packages/uring') + (t && `:plain${t}`) },
  { name: 'uring (this), SharedArrayBuffer', root: `${path.join(here, '..', 'packages/uring')}:sab${t}` },
  { name: 'node:fs/promises', root: 'node' + (t && `:plain${t}`) },
  { name: 'node UV_USE_IO_URING=1', root: 'node' + (t && `:plain${t}`), env: { UV_USE_IO_URING: '1' } },
]
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
for (const qd of args.qd.split(',').map(Number)) {
  const rates = contenders.map(() => [])
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [i, c] of contenders.entries()) {
      const out = execFileSync(process.execPath, [path.join(here, 'ab-child.mjs'), c.root, file, String(qd), args.ms], { env: { ...process.env, ...c.env }, encoding: 'utf8' })
      const r = JSON.parse(out)
      rates[i].push(r.ops / r.seconds)
    }
  }
  console.log(`\nqd${qd}: 4 KiB FileHandle.read${args.touch ? ' + a byte of every cache line read' : ''}, ${args.rounds} interleaved rounds of ${args.ms} ms, fresh process each`)
  for (const [i, c] of contenders.entries()) {
    const m = median(rates[i])
    console.log(`  ${c.name.padEnd(40)} median ${Math.round(m / 1e3)}k/s  spread ${Math.round(Math.min(...rates[i]) / 1e3)}k-${Math.round(Math.max(...rates[i]) / 1e3)}k`)
  }
  const [a, b, z, n, l] = rates.map(median)
  console.log(
    `  this/base ${(a / b).toFixed(3)}x; this vs node:fs/promises ${(a / n).toFixed(2)}x, base ${(b / n).toFixed(2)}x; this vs UV_USE_IO_URING=1 ${(a / l).toFixed(2)}x, base ${(b / l).toFixed(2)}x`,
  )
  console.log(
    `  cost per read: this ${(1e9 / a).toFixed(0)} ns, base ${(1e9 / b).toFixed(0)} ns, difference ${(1e9 / a - 1e9 / b).toFixed(0)} ns; SharedArrayBuffer ${(z / b).toFixed(3)}x base, ${(z / n).toFixed(2)}x node:fs/promises`,
  )
}
