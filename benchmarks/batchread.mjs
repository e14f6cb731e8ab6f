// Benchmark: 4 KiB random reads from a page-cached file at queue depth 32 through the batch API
// (FileHandle.batch: `qd / batch` loops, each awaiting one batch of `batch` reads), against the
// strongest peers, in the same run:
//   uring batch (default ring)          uring/fs open -> fh.batch, into Buffer.alloc'd buffers
//   uring batch, ring.allocBuffer ...   the same into ring.allocBuffer() buffers (SharedArrayBuffer:
//                                       the kernel reads into them in place; a plain Buffer costs
//                                       a copy at completion, so that it may be transferred mid-read)
//   uring batch (SQPOLL ring)           Ring({ sqpoll: true })
//   uring batch (inline ring)           Ring({ submitThread: false })
//   node UV_USE_IO_URING=1 fs.read cb   Node 20's libuv io_uring, fs.read callbacks (child process)
//   fio io_uring qd32 batch16/8         fio --ioengine=io_uring --iodepth=32
//                                       --iodepth_batch_submit=16 --iodepth_batch_complete_min=8
//   fio io_uring qd32                   the same without batching (for reference)
// fio runs when it is installed (Debian package `fio`). Prints the best uring variant against
// the libuv callback path and fio's qd32 batch figure.
// Usage: node benchmarks/batchread.mjs [--ms 2000] [--mib 1024] [--repeat 3] [--qd 32] [--batch 16]
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Ring, defaultRing } from 'uring'
import { open as uringOpen } from 'uring/fs'
import { BS, batchLoop, dataFile, emit } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({
  options: {
    ms: { type: 'string', default: '2000' },
    mib: { type: 'string', default: '1024' },
    repeat: { type: 'string', default: '3' },
    qd: { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
  },
})
const MS = Number(args.ms)
const REPEAT = Number(args.repeat)
const QD = Number(args.qd)
const BATCH = Number(args.batch)
const file = dataFile(path.join(here, '..', '.bench-data'), Number(args.mib))
const blocks = Math.floor(fs.statSync(file).size / BS)
const hasFio = spawnSync('fio', ['--version']).status === 0

const sqRing = new Ring({ sqpoll: true })
const inlineRing = new Ring({ submitThread: false })
const fio = (extra) => ({ fio: ['--ioengine=io_uring', `--iodepth=${QD}`, ...extra] })
const contenders = [
  { name: 'uring batch (default ring)', ring: defaultRing(), open: (f) => uringOpen(f, 'r') },
  { name: 'uring batch, ring.allocBuffer buffers', ring: defaultRing(), open: (f) => uringOpen(f, 'r'), alloc: (n) => defaultRing().allocBuffer(n) },
  { name: 'uring batch (SQPOLL ring)', ring: sqRing, open: (f) => sqRing.fs.open(f, 'r') },
  { name: 'uring batch (inline ring)', ring: inlineRing, open: (f) => inlineRing.fs.open(f, 'r') },
  { name: 'node UV_USE_IO_URING=1 fs.read cb', child: { UV_USE_IO_URING: '1' } },
  ...(hasFio
    ? [
        { name: `fio io_uring qd${QD} batch16/8`, ...fio(['--iodepth_batch_submit=16', '--iodepth_batch_complete_min=8']) },
        { name: `fio io_uring qd${QD}`, ...fio([]) },
      ]
    : []),
]

async function once(c) {
  if (c.child) {
    const out = execFileSync(process.execPath, [path.join(here, 'node-cb-child.mjs'), file, String(QD), String(MS)], {
      env: { ...process.env, ...c.child },
      encoding: 'utf8',
    })
    const r = JSON.parse(out)
    return r.ops / r.seconds
  }
  if (c.fio) {
    const secs = Math.max(1, Math.round(MS / 1000))
    const out = execFileSync(
      'fio',
      ['--name=t', `--filename=${file}`, '--rw=randread', `--bs=${BS}`, '--invalidate=0', '--time_based', `--runtime=${secs}`, '--ramp_time=1', '--output-format=json', ...c.fio],
      { encoding: 'utf8' },
    )
    return JSON.parse(out).jobs[0].read.iops
  }
  const fh = await c.open(file)
  const r = await batchLoop(fh, blocks, QD, BATCH, MS, undefined, c.alloc)
  await fh.close()
  return r.ops / r.seconds
}

const results = new Map()
for (const c of contenders) {
  const runs = []
  for (let i = 0; i < REPEAT; i++) runs.push(await once(c))
  runs.sort((a, b) => a - b)
  results.set(c.name, runs[Math.floor(runs.length / 2)])
}

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`)
console.log(`4 KiB random reads at qd${QD}, batches of ${BATCH}, ${args.mib} MiB page-cached file, ${MS} ms per run, median of ${REPEAT}`)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}${hasFio ? '' : '; fio not installed'}`)
console.log(`default ring: ${defaultRing().backend} (${defaultRing().mode}); SQPOLL ring: ${sqRing.backend} (${sqRing.mode}); inline ring: ${inlineRing.mode}`)
console.log('')
const width = Math.max(...contenders.map((c) => c.name.length))
console.log(`| ${'contender'.padEnd(width)} | reads/s |`)
console.log(`|${'-'.repeat(width + 2)}|---------|`)
for (const c of contenders) console.log(`| ${c.name.padEnd(width)} | ${fmt(results.get(c.name)).padStart(7)} |`)

const best = Math.max(...contenders.filter((c) => c.ring).map((c) => results.get(c.name)))
const bestName = contenders.find((c) => c.ring && results.get(c.name) === best).name
const libuv = results.get('node UV_USE_IO_URING=1 fs.read cb')
const ratios = [`${bestName} ÷ Node 20 UV_USE_IO_URING=1 fs.read callbacks: ${(best / libuv).toFixed(2)}x`]
if (hasFio) {
  const f = results.get(`fio io_uring qd${QD} batch16/8`)
  ratios.push(`${bestName} ÷ fio io_uring qd${QD} batch16/8: ${(best / f).toFixed(2)}x`)
}
console.log('')
for (const text of ratios) console.log(text)
emit(
  `4 KiB random reads, batch API, qd${QD}`,
  'reads/s',
  'uring batch (default ring)',
  contenders.map((c) => ({ contender: c.name, value: results.get(c.name) })),
)
await sqRing.close()
await inlineRing.close()
