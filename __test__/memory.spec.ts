// Memory tests of issue #16: every op that takes caller memory, with that memory transferred away
// (structuredClone, a postMessage transfer list, ArrayBuffer.prototype.transfer), resized or
// collected while the op is in flight, thousands of times, each scenario in a child process so
// that a crash fails it. The kernel must touch only memory the op owns: the process survives,
// results are the ops' own, nothing lands outside a buffer's bounds, writes put the caller's
// bytes on disk, and bytes kept elsewhere on the heap stay intact.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { BACKENDS, caught, each } from './helpers'

const fixture = join(__dirname, 'fixtures/memory.cjs')
const dir = fs.mkdtempSync(join(tmpdir(), 'uring-memory-'))
const file = join(dir, 'data.bin')
const SIZE = 1 << 20
const data = Buffer.allocUnsafe(SIZE)
for (let i = 0; i < SIZE; i++) data[i] = ((i * 2654435761) >>> 24) & 0xff
fs.writeFileSync(file, data)
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }))

function run(scenario: string, backend: string, iterations: number) {
  const r = spawnSync(process.execPath, ['--expose-gc', fixture, scenario, backend, file, String(iterations)], { encoding: 'utf8', timeout: 60_000 })
  const last = r.stdout.trim().split('\n').pop()
  let json: any
  try {
    json = last ? JSON.parse(last) : undefined
  } catch {
    json = undefined
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr, json }
}

const SCENARIOS: Array<[string, number, string]> = [
  ['read-structuredClone', 3008, 'reads whose buffer is transferred by structuredClone'],
  ['read-postMessage', 3008, 'reads whose buffer is transferred by postMessage'],
  ['read-transfer', 3008, 'reads whose buffer is transferred by ArrayBuffer.prototype.transfer (Node 22+)'],
  ['filehandle-read', 2048, 'FileHandle.read, 32 in flight, buffers transferred'],
  ['readv', 2000, 'readv with one of its buffers transferred'],
  ['resize', 2000, 'reads into a resizable ArrayBuffer shrunk in flight'],
  ['collect', 4096, 'reads into buffers collected in flight'],
  ['write', 4000, 'writes from buffers transferred and refilled in flight'],
  ['writev', 4000, 'writev from buffers transferred and refilled in flight'],
  ['socket-write', 2048, 'socket writes from buffers transferred and refilled in flight'],
]

for (const backend of BACKENDS) {
  for (const [scenario, n, title] of SCENARIOS) {
    test(`[${backend}] ${title}`, (t) => {
      const r = run(scenario, backend, n)
      const where = `exit ${r.status}, signal ${r.signal}, stderr: ${r.stderr.slice(-2000)}`
      t.is(r.signal, null, where)
      t.is(r.status, 0, where)
      t.notRegex(r.stderr, /malloc|free\(\)|corrupt|Segmentation|Assertion|FATAL/i)
      if (r.json?.skipped) {
        t.log(`skipped: ${r.json.skipped}`)
        return
      }
      t.is(r.json.backend, backend)
      const expected = scenario === 'resize' ? n / 10 : scenario.startsWith('write') ? n / 4 : n
      t.is(r.json.results, expected, `every op reported its own full result: ${JSON.stringify(r.json)}`)
      t.is(r.json.wrong, 0, `bytes not as expected: ${JSON.stringify(r.json)}`)
      if (scenario.startsWith('read-')) t.is(r.json.detached, n, 'each buffer was detached by the transfer')
      if (scenario === 'resize') t.is(r.json.tailClean, n / 10, 'no byte past the shrunk end')
      t.true(r.json.sentinelsIntact, 'heap bytes kept elsewhere are intact')
    })
  }
}

each('ring.allocBuffer: a SharedArrayBuffer-backed Buffer that reads and writes use in place, and that cannot be transferred away', async (t, { ring, dir }) => {
  const b = ring.allocBuffer(8192)
  t.true(Buffer.isBuffer(b))
  t.is(b.length, 8192)
  t.true(b.buffer instanceof SharedArrayBuffer)
  t.true(b.every((x) => x === 0))
  t.throws(() => structuredClone(b.buffer, { transfer: [b.buffer as any] }))
  const path = join(dir, 'f')
  const fd = fs.openSync(path, 'w+')
  try {
    b.fill(7, 0, 4096).fill(9, 4096)
    t.is(await ring.write(fd, b, 0), 8192)
    b.fill(0)
    t.is(await ring.read(fd, b.subarray(0, 4096), 4096), 4096)
    t.true(b.subarray(0, 4096).every((x) => x === 9))
    t.is(await ring.readv(fd, [b.subarray(4096), b.subarray(0, 10)], 0), 4106)
    t.true(b.subarray(4096).every((x) => x === 7))
  } finally {
    fs.closeSync(fd)
  }
  t.is((await caught(() => ring.allocBuffer(-1)))?.code, 'ERR_OUT_OF_RANGE')
  t.is((await caught(() => ring.allocBuffer(1.5)))?.code, 'ERR_OUT_OF_RANGE')
  t.is((await caught(() => ring.allocBuffer('1' as any)))?.code, 'ERR_INVALID_ARG_TYPE')
})
