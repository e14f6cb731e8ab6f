// Reads the JS thread makes itself (crates/uring-napi/src/hot.rs: read_here): while a ring's
// submit thread is busy with SQEs queued behind it and the JS thread has been waiting for its
// completions, a read at a position is made on the JS thread with preadv2(RWF_NOWAIT), straight
// into the caller's buffer; anything the page cache cannot answer whole goes to the ring. Here:
// 20,000 reads, 64 in flight — mostly 4 KiB, some of any length, some across and past the end of
// the file, into Buffers, SharedArrayBuffers and offset views — on every kind of ring, each
// checked byte for byte against the file and against node:fs/promises' results for the same
// sequence, with the caller's bytes around each read checked untouched; then the same through an
// O_DIRECT fd, whose reads into unaligned JS memory the kernel refuses (EINVAL) on the JS thread,
// so the ring makes them through its aligned chunks. Child processes: a crash fails the test.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'

const fixture = join(__dirname, 'fixtures/own-reads.cjs')
const linux = process.platform === 'linux'
const dir = fs.mkdtempSync(join(tmpdir(), 'uring-own-reads-'))
const file = join(dir, 'data')
test.before(() => {
  const b = Buffer.allocUnsafe(8 << 20)
  for (let i = 0; i < b.length; i++) b[i] = Math.imul(i + 7, 2654435761) >>> 24
  fs.writeFileSync(file, b)
})
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }))

interface Out {
  results: number[]
  mismatches: number
  firstBad: unknown[]
  mode?: string
  ownReads: number
  completed: number
  submitted: number
}

function run(kind: string, direct = false, reads = 20000): Out {
  const r = spawnSync(process.execPath, [fixture, kind, file, direct ? 'direct' : 'buffered', String(reads)], {
    encoding: 'utf8',
    timeout: 60000,
    maxBuffer: 16 << 20,
  })
  if (r.status !== 0) throw new Error(`${kind} exited ${r.status ?? r.signal}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Out
}

test("every read is the file's bytes and node:fs/promises' result, on every ring kind; the JS thread made some itself on the submit-thread ring", (t) => {
  if (!linux) return t.pass('io_uring is Linux only')
  const oracle = run('fsp')
  t.is(oracle.mismatches, 0, JSON.stringify(oracle.firstBad))
  for (const kind of ['uring', 'uring-inline', 'uring-sqpoll', 'node']) {
    const o = run(kind)
    t.is(o.mismatches, 0, `${kind}: ${JSON.stringify(o.firstBad)}`)
    t.deepEqual(o.results, oracle.results, kind)
    if (kind === 'uring' && o.mode === 'submitter') {
      t.true(o.ownReads > 0, `${kind}: no read was made by the JS thread (${JSON.stringify({ ...o, results: undefined })})`)
      // Own reads never reach the kernel's SQ: completed, not submitted (the open and close were).
      t.is(o.completed - o.submitted, o.ownReads, kind)
    } else {
      t.is(o.ownReads, 0, kind)
    }
  }
})

test('O_DIRECT: reads into unaligned JS memory still succeed on io_uring (the ring makes them through aligned chunks)', (t) => {
  if (!linux) return t.pass('O_DIRECT is Linux only')
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT))
  } catch (e) {
    return t.pass(`skipped: ${dir}'s file system refuses O_DIRECT (${(e as NodeJS.ErrnoException).code})`)
  }
  const o = run('uring', true, 4000)
  t.is(o.mismatches, 0, JSON.stringify(o.firstBad))
  t.is(o.ownReads, 0)
})
