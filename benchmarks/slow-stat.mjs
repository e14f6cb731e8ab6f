// Benchmark: stat on a slow disk. A FUSE filesystem (benchmarks/slowfs.py) whose every lookup
// sleeps --delay-ms stands for a disk with cold caches; 400 files are stat'ed, 64 in flight.
// What it shows: whether ops that sleep in the kernel run side by side (io-wq starts a worker
// per blocked request; uring's executor starts spare threads when a job waits at the head of
// its queue; libuv has its pool of 4) or one after another. Each contender in a fresh process,
// rounds interleaved (lib.mjs `interleaved`), median and min-max.
// Needs root and /dev/fuse, and python3-fusepy (Debian: apt-get install python3-fusepy); says
// so and exits when they are missing, installs nothing.
// Usage: node benchmarks/slow-stat.mjs [--rounds 3] [--delay-ms 5] [--no-bun]
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bunBinary, emit, interleaved } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'delay-ms': { type: 'string', default: '5' },
    'no-bun': { type: 'boolean', default: false },
    cell: { type: 'string' }, // child: "uring" or "node", with the mount point as --dir
    dir: { type: 'string' },
  },
})
const FILES = 400

if (args.cell) {
  const { stat } = await import(args.cell === 'uring' ? 'uring/fs' : 'node:fs/promises')
  const names = Array.from({ length: FILES }, (_, i) => path.join(args.dir, `f${i}`))
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (i < names.length) if ((await stat(names[i++])).size !== 4096) throw new Error('size')
    }),
  )
  console.log(`RESULT ${FILES / ((performance.now() - t0) / 1000)}`)
  process.exit(0)
}

const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const missing = []
if (process.getuid?.() !== 0) missing.push('root')
if (!fs.existsSync('/dev/fuse')) missing.push('/dev/fuse')
if (spawnSync(python, ['-c', 'import fusepy']).status !== 0) missing.push('python3-fusepy (apt-get install python3-fusepy)')
if (missing.length) {
  console.error(`slow-stat needs ${missing.join(', ')}; not run`)
  process.exit(1)
}
const mnt = fs.mkdtempSync('/tmp/uring-slowfs-')
const fuse = spawn(python, [path.join(here, 'slowfs.py'), mnt, String(FILES), String(Number(args['delay-ms']) / 1000)], { stdio: 'inherit' })
const unmount = () => {
  spawnSync('fusermount', ['-u', mnt]).status === 0 || spawnSync('umount', ['-l', mnt])
  fuse.kill()
  fs.rmSync(mnt, { recursive: true, force: true })
}
try {
  for (let t = 0; !fs.existsSync(path.join(mnt, 'f0')); t++) {
    if (t > 100) throw new Error('the FUSE filesystem did not come up')
    await new Promise((r) => setTimeout(r, 50))
  }
  // The first lookup of each name is slower for everyone (the filesystem builds its nodes):
  // done once here, so that no contender pays it.
  await Promise.all(Array.from({ length: FILES }, (_, i) => fs.promises.stat(path.join(mnt, `f${i}`))))
  const self = fileURLToPath(import.meta.url)
  const s = `stat of ${FILES} files on a disk whose every lookup sleeps ${args['delay-ms']} ms, 64 in flight`
  const cell = (contender, cmd, who, env = {}) => ({ scenario: s, contender, cmd, args: [self, '--cell', who, '--dir', mnt], env })
  const bun = args['no-bun'] ? undefined : bunBinary(root)
  const cells = [
    cell('uring/fs (default ring)', process.execPath, 'uring'),
    cell('uring, STATX on io-wq (URING_EXECUTOR=0)', process.execPath, 'uring', { URING_EXECUTOR: '0' }),
    cell('node:fs/promises', process.execPath, 'node'),
    ...(bun ? [cell(`Bun ${spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim()} node:fs/promises`, bun, 'node')] : []),
  ]
  for (const r of await interleaved(cells, Number(args.rounds), (line) => console.error(line))) {
    console.log(`${r.scenario} (files/s): ${r.entries.map((e) => `${e.contender} ${e.value.toFixed(0)} [${e.min.toFixed(0)}-${e.max.toFixed(0)}]`).join('; ')}`)
    emit(r.scenario, 'files/s', 'uring/fs (default ring)', r.entries)
  }
} finally {
  unmount()
}
