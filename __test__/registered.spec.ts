// Registered memory (issue #16, crates/uring-napi/src/chunk.rs): each io_uring ring registers a
// 1 MiB arena as its fixed buffer, and 4 KiB reads and writes into or out of ordinary Buffers go
// through it (READ_FIXED/WRITE_FIXED); when the kernel refuses to pin it (RLIMIT_MEMLOCK, here
// `ulimit -l 512` for a process that became nobody and so lacks CAP_IPC_LOCK), the ring goes on
// with heap memory and plain reads and writes: the same bytes either way. Chunks are
// page-aligned, so an fd opened with O_DIRECT works with any Buffer on io_uring. Each scenario
// runs in a child process (fixtures/registered.cjs); a crash fails the test with its stderr.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'

const fixture = join(__dirname, 'fixtures/registered.cjs')
const linux = process.platform === 'linux'
const RINGS = ['uring', 'uring-inline', 'uring-sqpoll'] as const
const dir = fs.mkdtempSync(join(tmpdir(), 'uring-registered-'))
fs.chmodSync(dir, 0o777) // nobody writes here too
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }))

interface Out {
  ok: boolean
  code?: string
  mismatches: number
  registeredBytes?: number
  fixedOps?: number
  ownReads?: number
}

function run(kind: string, opts: { drop?: boolean; direct?: boolean; ulimit?: string } = {}): Out {
  const json = JSON.stringify({ kind, dir, drop: !!opts.drop, direct: !!opts.direct })
  const [cmd, args] = opts.ulimit === undefined ? [process.execPath, [fixture, json]] : ['bash', ['-c', `${opts.ulimit} && exec "$0" "$@"`, process.execPath, fixture, json]]
  const r = spawnSync(cmd, args as string[], { encoding: 'utf8', timeout: 20000 })
  if (r.status !== 0) throw new Error(`${kind} exited ${r.status ?? r.signal}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Out
}

for (const kind of RINGS) {
  test(`${kind}: 4 KiB reads and writes of ordinary Buffers go through the registered arena, bytes intact`, (t) => {
    if (!linux) return t.pass('io_uring is Linux only')
    const o = run(kind)
    t.true(o.ok, o.code)
    t.is(o.mismatches, 0)
    t.is(o.registeredBytes, 1 << 20)
    // 64 writes + 64 reads of 4 KiB; the 16 KiB ones use heap chunks. A read the JS thread made
    // itself while the submit thread was busy (stats().ownReads, crates/uring-napi/src/hot.rs)
    // needs no chunk at all.
    t.true(o.fixedOps! <= 128 && o.fixedOps! >= 64 && o.fixedOps! + o.ownReads! >= 128, JSON.stringify(o))
  })

  test(`${kind}: nobody under ulimit -l 512 (no CAP_IPC_LOCK): nothing registered, plain reads and writes, same bytes`, (t) => {
    if (!linux) return t.pass('io_uring is Linux only')
    if (process.getuid?.() !== 0) return t.pass(`skipped: not root (uid ${process.getuid?.()}), cannot become nobody to lose CAP_IPC_LOCK`)
    const o = run(kind, { drop: true, ulimit: 'ulimit -l 512' })
    t.true(o.ok, o.code)
    t.is(o.mismatches, 0)
    t.is(o.registeredBytes, 0)
    t.is(o.fixedOps, 0)
  })
}

test('O_DIRECT: io_uring rings read and write any Buffer (their chunks are page-aligned); the node backend does as node:fs', (t) => {
  if (!linux) return t.pass('O_DIRECT is Linux only')
  const oracle = run('fsp', { direct: true })
  if (!oracle.ok && oracle.code !== 'EINVAL') return t.fail(`node:fs/promises: ${oracle.code}`)
  const probe = fs.openSync(join(dir, 'probe'), 'w')
  fs.closeSync(probe)
  try {
    fs.closeSync(fs.openSync(join(dir, 'probe'), fs.constants.O_RDONLY | fs.constants.O_DIRECT))
  } catch (e) {
    return t.pass(`skipped: ${dir}'s file system refuses O_DIRECT (${(e as NodeJS.ErrnoException).code})`)
  }
  for (const kind of RINGS) {
    const o = run(kind, { direct: true })
    t.true(o.ok, `${kind}: ${o.code}`)
    t.is(o.mismatches, 0, kind)
  }
  // node:fs hands the kernel the Buffer's own memory: EINVAL unless it happens to be aligned.
  const n = run('node', { direct: true })
  t.true(n.ok || n.code === 'EINVAL', n.code)
  t.is(n.mismatches, 0)
})
