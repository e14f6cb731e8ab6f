// Shared by the benchmark and its child processes: the data file and the read loop, so every
// contender runs exactly the same work (same offsets, same buffer handling).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export const BS = 4096

/** Creates (once) and warms a file of `mib` MiB, so that reads are served from the page cache. */
export function dataFile(dir, mib) {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `randread-${mib}MiB.bin`)
  const size = mib * 1024 * 1024
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
    const chunk = Buffer.alloc(1024 * 1024)
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < mib; i++) {
      for (let j = 0; j < chunk.length; j += 8) chunk.writeUInt32LE((i * chunk.length + j) >>> 0, j)
      fs.writeSync(fd, chunk)
    }
    fs.closeSync(fd)
  }
  // Warm the page cache.
  const fd = fs.openSync(file, 'r')
  const b = Buffer.allocUnsafe(1024 * 1024)
  while (fs.readSync(fd, b) > 0);
  fs.closeSync(fd)
  return file
}

/** The random block numbers every contender reads, in the same order: `next()` gives the next. */
export function blocksOf(blocks) {
  let seed = 1
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % blocks
  }
}

/**
 * The clock of one run: `warmMs` of warm-up, then `ms` measured. `measuring` and `stopped` say
 * where it stands; `count(n)` adds finished ops (counted only while measuring); `result()` gives
 * { ops, seconds } once stopped.
 */
export function runClock(ms, warmMs = 300) {
  let phase = 0 // 0 warm-up, 1 measuring, 2 stop
  let ops = 0
  let t0 = 0n
  let t1 = 0n
  const warm = setTimeout(() => {
    phase = 1
    ops = 0
    t0 = process.hrtime.bigint()
    setTimeout(() => {
      t1 = process.hrtime.bigint()
      phase = 2
    }, ms)
  }, warmMs)
  return {
    get stopped() {
      return phase === 2
    },
    count(n) {
      if (phase === 1) ops += n
    },
    result() {
      clearTimeout(warm)
      return { ops, seconds: Number(t1 - t0) / 1e9 }
    },
  }
}

/**
 * Runs `qd` concurrent loops of `await fh.read(buffer, 0, 4096, randomBlock * 4096)` for
 * `ms` milliseconds (after `warmMs` of warm-up) and returns { ops, seconds }. Each loop's buffer
 * comes from `alloc` (default `Buffer.alloc`; ab.mjs also tries SharedArrayBuffer-backed ones);
 * `use(buffer)`, if given, runs after each read (ab.mjs: a consumer that reads the bytes).
 */
export async function readLoop(fh, blocks, qd, ms, warmMs = 300, alloc = (n) => Buffer.alloc(n), use = undefined) {
  const next = blocksOf(blocks)
  const clock = runClock(ms, warmMs)
  const worker = async () => {
    const b = alloc(BS)
    while (!clock.stopped) {
      const { bytesRead } = await fh.read(b, 0, BS, next() * BS)
      if (bytesRead !== BS) throw new Error(`short read: ${bytesRead}`)
      use?.(b)
      clock.count(1)
    }
  }
  await Promise.all(Array.from({ length: qd }, worker))
  return clock.result()
}

/**
 * Runs `qd / batch` concurrent loops of `await fh.batch([...batch reads of random 4 KiB
 * blocks])` for `ms` milliseconds (after `warmMs` of warm-up); returns { ops, seconds }. Each
 * read's buffer comes from `alloc` (default `Buffer.alloc`).
 */
export async function batchLoop(fh, blocks, qd, batch, ms, warmMs = 300, alloc = (n) => Buffer.alloc(n)) {
  const next = blocksOf(blocks)
  const clock = runClock(ms, warmMs)
  const worker = async () => {
    // The op objects are reused: only their positions change from one batch to the next.
    const reads = Array.from({ length: batch }, () => ({ op: 'read', buffer: alloc(BS), position: 0 }))
    while (!clock.stopped) {
      for (const r of reads) r.position = next() * BS
      const results = await fh.batch(reads)
      for (const r of results) if (r.status !== 'fulfilled' || r.value !== BS) throw new Error(`failed or short read: ${r.reason ?? r.value}`)
      clock.count(batch)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.floor(qd / batch)) }, worker))
  return clock.result()
}

/**
 * Reports one scenario to benchmarks/run.mjs (which charts it): a line `BENCH_JSON {...}` with
 * `{ scenario, unit, uring, entries: [{ contender, value }] }`, `uring` naming the entry that the
 * others are compared with. Scripts run on their own print it too; it is one line.
 */
export function emit(scenario, unit, uring, entries) {
  console.log(`BENCH_JSON ${JSON.stringify({ scenario, unit, uring, entries: entries.filter((e) => Number.isFinite(e.value) && e.value > 0) })}`)
}

/** Where Bun's binary is expected: .runtimes/bun, from the npm registry's @oven/bun-linux-x64. */
export const BUN_HOW = 'npm install --no-save --prefix .runtimes/bun @oven/bun-linux-x64'

/**
 * Bun's binary in .runtimes/bun (under `root`), or undefined, saying once on stderr what is
 * missing and how to get it. Nothing is installed here: a benchmark never installs silently.
 */
export function bunBinary(root) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined
  const bin = path.join(root, '.runtimes', 'bun', 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun')
  if (fs.existsSync(bin)) return bin
  if (!bunBinary.said) console.error(`Bun is not in .runtimes/bun, so it is left out; to include it: ${BUN_HOW}`)
  bunBinary.said = true
  return undefined
}

/**
 * Runs every cell of a benchmark as a fresh process, `rounds` times, rounds interleaved (the
 * order of contenders rotates from one round to the next, so none always runs first or right
 * after a heavy one; dirty pages are synced before each run): cells are `{ scenario, contender, cmd, args, env }`, each process prints
 * one line `RESULT <number>` last. Returns, per scenario in order, `{ scenario, entries:
 * [{ contender, value (median), min, max, runs }] }`. `say(line)` reports each run as it ends.
 */
export async function interleaved(cells, rounds, say = () => {}) {
  const scenarios = [...new Set(cells.map((c) => c.scenario))]
  const runs = new Map(cells.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    for (const s of scenarios) {
      const row = cells.filter((c) => c.scenario === s)
      for (let k = 0; k < row.length; k++) {
        const c = row[(k + r) % row.length]
        // Dirty pages of the run before (writes) are flushed first, so that no run pays for
        // another's writeback.
        spawnSync('sync')
        const p = spawnSync(c.cmd, c.args, { encoding: 'utf8', env: { ...process.env, ...c.env }, maxBuffer: 1 << 24 })
        const m = /RESULT (\S+)\s*$/.exec(p.stdout ?? '')
        if (p.status !== 0 || !m) throw new Error(`${c.contender} / ${s}: exit ${p.status ?? p.signal}\n${p.stdout}\n${p.stderr}`)
        runs.get(c).push(Number(m[1]))
        say(`round ${r + 1}/${rounds}  ${s}  ${c.contender}: ${Number(m[1]).toFixed(0)}`)
      }
    }
  }
  return scenarios.map((s) => ({
    scenario: s,
    entries: cells
      .filter((c) => c.scenario === s)
      .map((c) => {
        const xs = [...runs.get(c)].sort((a, b) => a - b)
        return { contender: c.contender, value: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs[xs.length - 1], runs: xs.length }
      }),
  }))
}
