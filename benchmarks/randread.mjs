// Benchmark v0: 4 KiB random reads from a page-cache-resident file, FileHandle.read at queue
// depths 1, 32 and 128, for every contender in the same run:
//   uring/fs           the default ring (uring/fs open -> FileHandle.read), into Buffer.alloc'd
//                      buffers (each read copied out of the op's own memory at completion)
//   uring/fs, ring.allocBuffer buffers: the same into SharedArrayBuffer-backed buffers, which
//                      the kernel writes in place
//   uring SQPOLL       a Ring({ sqpoll: true }) (ring.fs.open -> FileHandle.read)
//   node:fs/promises   Node's own FileHandle.read (libuv thread pool)
//   node UV_USE_IO_URING=1  the same in a child Node with libuv's io_uring enabled
// Prints ops/s and io_uring_enter calls per read (ring.stats().enterCalls), then uring's
// ratios to the peers. Usage: node benchmarks/randread.mjs [--ms 2000] [--mib 1024] [--repeat 1]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { open as nodeOpen } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Ring } from 'uring'
import { open as uringOpen } from 'uring/fs'
import { defaultRing } from 'uring'
import { BS, dataFile, emit, readLoop } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({
  options: {
    ms: { type: 'string', default: '2000' },
    mib: { type: 'string', default: '1024' },
    repeat: { type: 'string', default: '1' },
    qd: { type: 'string', default: '1,32,128' },
  },
})
const MS = Number(args.ms)
const REPEAT = Number(args.repeat)
const QDS = args.qd.split(',').map(Number)
const file = dataFile(path.join(here, '..', '.bench-data'), Number(args.mib))
const blocks = Math.floor(fs.statSync(file).size / BS)

const sqRing = new Ring({ sqpoll: true })
const contenders = [
  { name: 'uring/fs (default ring)', ring: defaultRing(), open: (f) => uringOpen(f, 'r') },
  { name: 'uring/fs, ring.allocBuffer buffers', ring: defaultRing(), open: (f) => uringOpen(f, 'r'), alloc: (n) => defaultRing().allocBuffer(n) },
  { name: 'uring SQPOLL ring', ring: sqRing, open: (f) => sqRing.fs.open(f, 'r') },
  { name: 'node:fs/promises', open: (f) => nodeOpen(f, 'r') },
  { name: 'node UV_USE_IO_URING=1', child: { UV_USE_IO_URING: '1' } },
]

async function once(c, qd) {
  if (c.child) {
    const out = execFileSync(process.execPath, [path.join(here, 'node-child.mjs'), file, String(qd), String(MS)], {
      env: { ...process.env, ...c.child },
      encoding: 'utf8',
    })
    const r = JSON.parse(out)
    return { rate: r.ops / r.seconds, enters: undefined }
  }
  const fh = await c.open(file)
  const before = c.ring?.stats()
  const r = await readLoop(fh, blocks, qd, MS, undefined, c.alloc)
  const after = c.ring?.stats()
  await fh.close()
  // enterCalls over the whole run (warm-up included) divided by the reads it completed.
  const enters = before && (after.enterCalls - before.enterCalls) / (after.completed - before.completed)
  return { rate: r.ops / r.seconds, enters }
}

const results = new Map()
for (const qd of QDS) {
  for (const c of contenders) {
    const runs = []
    for (let i = 0; i < REPEAT; i++) runs.push(await once(c, qd))
    runs.sort((a, b) => a.rate - b.rate)
    results.set(`${c.name}|${qd}`, runs[Math.floor(runs.length / 2)])
  }
}

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`)
console.log(`4 KiB random reads, ${args.mib} MiB page-cached file, ${MS} ms per cell, median of ${REPEAT}`)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}`)
console.log(`default ring: ${defaultRing().backend} (${defaultRing().mode}${defaultRing().fallbackReason ? `: ${defaultRing().fallbackReason}` : ''}); SQPOLL ring: ${sqRing.backend} (${sqRing.mode})`)
console.log('')
const head = ['contender', ...QDS.map((q) => `qd${q} ops/s`), ...QDS.map((q) => `qd${q} enter/op`)]
const rows = contenders.map((c) => [
  c.name,
  ...QDS.map((q) => fmt(results.get(`${c.name}|${q}`).rate)),
  ...QDS.map((q) => {
    const e = results.get(`${c.name}|${q}`).enters
    return e === undefined ? '-' : e.toFixed(4)
  }),
])
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (r) => `| ${r.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`
console.log(line(head))
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
for (const r of rows) console.log(line(r))

for (const q of QDS)
  emit(
    `4 KiB random reads, FileHandle.read, qd${q}`,
    'reads/s',
    'uring/fs (default ring)',
    contenders.map((c) => ({ contender: c.name, value: results.get(`${c.name}|${q}`).rate })),
  )

if (QDS.includes(32)) {
  const u = results.get('uring/fs (default ring)|32').rate
  const z = results.get('uring/fs, ring.allocBuffer buffers|32').rate
  const n = results.get('node:fs/promises|32').rate
  const l = results.get('node UV_USE_IO_URING=1|32').rate
  const sq = Math.max(...QDS.filter((q) => q >= 32).map((q) => results.get(`uring SQPOLL ring|${q}`).enters ?? Infinity))
  console.log('')
  console.log(`uring/fs qd32 ÷ node:fs/promises: ${(u / n).toFixed(1)}x; ÷ Node UV_USE_IO_URING=1: ${(u / l).toFixed(2)}x`)
  console.log(`uring/fs qd32 into ring.allocBuffer buffers ÷ node:fs/promises: ${(z / n).toFixed(1)}x; ÷ Node UV_USE_IO_URING=1: ${(z / l).toFixed(2)}x`)
  console.log(`SQPOLL io_uring_enter per read under load (qd>=32): ${sq.toFixed(4)}`)
}
await sqRing.close()
