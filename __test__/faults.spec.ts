// Fault injection (issue #16): full disks (a 1 MiB tmpfs), file-size limits (ulimit -f), fd
// exhaustion (ulimit -n) and inode exhaustion (a tmpfs of 16 inodes). Every scenario runs the
// same body (fixtures/faults.cjs) on node:fs/promises, the oracle, and on `ring.fs` of io_uring
// rings (default, submitThread: false, SQPOLL) and of the node backend, each in a child process
// of its own (a crash or abort fails the test with its stderr). Compared with node:fs/promises:
// the outcome (resolved, or the error's code and syscall), the sizes and the op results; checked
// of every run: the bytes on disk are exactly what the resolved writes reported, never later data
// over earlier data.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'

const fixture = join(__dirname, 'fixtures/faults.cjs')
const MiB = 1 << 20
const FSIZE_LIMIT = 512 * 1024 // `ulimit -f 512`: bash counts in 1024-byte blocks

type Kind = 'fsp' | 'uring' | 'uring-inline' | 'uring-sqpoll' | 'node'
const KINDS: Kind[] = process.platform === 'linux' ? ['fsp', 'uring', 'uring-inline', 'uring-sqpoll', 'node'] : ['fsp', 'node']

// ---- where the scenarios run -------------------------------------------------------------------

const mounted: string[] = []
const scratch: string[] = []

function unmountAll(): void {
  for (const dir of mounted.splice(0)) {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir])
    fs.rmSync(dir, { recursive: true, force: true })
  }
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
}
test.after.always(unmountAll)
process.once('exit', unmountAll) // the worker ending some other way must not leave mounts behind

interface Place {
  dir?: string
  /** Why the scenarios of this place cannot run here. */
  skip?: string
  mounted?: boolean
  filler?: boolean
  ulimit?: string
}

function tmpfs(options: string): Place {
  if (process.platform !== 'linux') return { skip: 'not Linux: no tmpfs' }
  if (process.getuid?.() !== 0) return { skip: `not root (uid ${process.getuid?.()}): cannot mount a tmpfs` }
  const dir = fs.mkdtempSync(join(tmpdir(), 'uring-faults-mnt-'))
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' })
  if (r.status !== 0) {
    fs.rmdirSync(dir)
    return { skip: `mount -t tmpfs -o ${options} failed: ${r.error ?? r.stderr.trim()}` }
  }
  mounted.push(dir)
  return { dir, mounted: true }
}

function limited(ulimit: string): Place {
  if (spawnSync('bash', ['-c', ulimit]).status !== 0) return { skip: `bash -c '${ulimit}' failed` }
  const dir = fs.mkdtempSync(join(tmpdir(), 'uring-faults-'))
  scratch.push(dir)
  return { dir, ulimit }
}

const places = {
  ENOSPC: { ...tmpfs('size=1m'), filler: true },
  EFBIG: limited('ulimit -f 512'),
  EMFILE: limited('ulimit -n 64'),
  inodes: tmpfs('size=4m,nr_inodes=16'),
}
type PlaceName = keyof typeof places

// ---- the child processes -----------------------------------------------------------------------

interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stderr: string
  error?: Error
  json: any
}

function run(place: Place, kind: Kind, arg: object): Run {
  const json = JSON.stringify({ ...arg, kind, dir: place.dir, mounted: place.mounted, filler: place.filler })
  const [cmd, args] = place.ulimit === undefined ? [process.execPath, [fixture, json]] : ['bash', ['-c', `${place.ulimit} && exec "$0" "$@"`, process.execPath, fixture, json]]
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000 })
  let parsed: unknown
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').pop() ?? '')
  } catch {}
  return { status: r.status, signal: r.signal, stderr: r.stderr, error: r.error, json: parsed }
}

/** The child ran to its end (no crash, no signal, no timeout) and printed a result. */
function result(t: ExecutionContext, who: string, r: Run): any {
  const how = `${who}: status ${r.status}, signal ${r.signal}${r.error ? `, ${r.error.message}` : ''}; stderr:\n${r.stderr}`
  t.deepEqual({ status: r.status, signal: r.signal, error: r.error?.message }, { status: 0, signal: null, error: undefined }, how)
  t.truthy(r.json, `${who} printed no result. ${how}`)
  t.is(r.json.setupError, undefined, `${who}: ${r.json.setupError}`)
  return r.json
}

// ---- the scenarios -----------------------------------------------------------------------------

interface Scenario {
  place: PlaceName
  title: string
  arg: Record<string, unknown>
  /** What must equal node:fs/promises' result (besides `content` and `filler`). */
  same(j: any): unknown
  /** What must hold of every run's result, node:fs/promises' included. */
  check(t: ExecutionContext, j: any): void
}

/** An op's outcome with the parts compared: the value, or the error's code and syscall. */
const outcome = (o: any) => (o?.err ? { err: { code: o.err.code, syscall: o.err.syscall } } : o)
const fails = (t: ExecutionContext, o: any, code: string, syscall: string, what: string) =>
  t.deepEqual(outcome(o), { err: { code, syscall } }, `${what} must reject with ${code} (${syscall}), got ${JSON.stringify(o)}`)
const sumIsSize = (t: ExecutionContext, j: any) => t.is(j.sum, j.size, `the bytes the writes reported (${j.sum}) must be the file size (${j.size})`)

function writeFileOf(place: 'ENOSPC' | 'EFBIG', handle: boolean, size: number, code: string): Scenario {
  return {
    place,
    title: `${handle ? 'fh.writeFile' : 'writeFile'} of ${size / MiB} MiB`,
    arg: { scenario: 'writeFile', handle, size },
    same: (j) => ({ outcome: outcome(j.outcome), size: j.size }),
    check: (t, j) => {
      fails(t, j.outcome, code, 'write', 'writeFile')
      t.true(j.size > 0 && j.size < size, `file size ${j.size}`)
    },
  }
}

function writes(place: 'ENOSPC' | 'EFBIG', count: number, chunk: number, positioned: boolean, code: string): Scenario {
  return {
    place,
    title: `${count} × fh.write(${chunk} bytes, ${positioned ? 'at i * chunk' : 'null'})`,
    arg: { scenario: 'writes', count, chunk, positioned },
    same: (j) => ({ outcome: outcome(j.outcome), writes: j.writes, size: j.size }),
    check: (t, j) => {
      fails(t, j.outcome, code, 'write', `fh.write ${j.writes.length + 1}`)
      sumIsSize(t, j)
    },
  }
}

function appends(place: 'ENOSPC' | 'EFBIG', count: number, chunk: number, code: string): Scenario {
  return {
    place,
    title: `appendFile of ${chunk} bytes until it fails`,
    arg: { scenario: 'appendFile', count, chunk },
    same: (j) => ({ outcome: outcome(j.outcome), appended: j.appended, size: j.size }),
    check: (t, j) => fails(t, j.outcome, code, 'write', `appendFile ${j.appended + 1}`),
  }
}

const scenarios: Scenario[] = [
  writeFileOf('ENOSPC', false, 2 * MiB, 'ENOSPC'),
  writes('ENOSPC', 40, 65536, false, 'ENOSPC'),
  writes('ENOSPC', 40, 65536, true, 'ENOSPC'),
  {
    place: 'ENOSPC',
    title: 'fh.writev of 20 × 64 KiB at null, then of the rest',
    arg: { scenario: 'writev', count: 20, chunk: 65536 },
    same: (j) => ({ calls: j.calls.map(outcome), size: j.size }),
    check: (t, j) => {
      fails(t, j.calls.at(-1), 'ENOSPC', 'write', `writev ${j.calls.length} (calls: ${JSON.stringify(j.calls)})`)
      sumIsSize(t, j)
    },
  },
  appends('ENOSPC', 40, 60000, 'ENOSPC'),
  writeFileOf('ENOSPC', true, 2 * MiB, 'ENOSPC'),
  {
    place: 'ENOSPC',
    title: 'fh.createWriteStream fed 32 × 64 KiB',
    arg: { scenario: 'stream', count: 32, chunk: 65536 },
    same: (j) => ({ outcome: outcome(j.outcome), bytesWritten: j.bytesWritten, size: j.size }),
    check: (t, j) => {
      fails(t, j.outcome, 'ENOSPC', 'write', 'the stream')
      t.is(j.bytesWritten, j.size, `stream.bytesWritten (${j.bytesWritten}) must be the file size (${j.size})`)
    },
  },
  {
    place: 'ENOSPC',
    title: 'ring.batch of 20 × 64 KiB writes at null',
    arg: { scenario: 'batch', count: 20, chunk: 65536 },
    // The writes run in any order: compared as a multiset.
    same: (j) => ({ results: j.results.map((r: unknown) => JSON.stringify(outcome(r))).sort(), size: j.size }),
    check: (t, j) => {
      const errors = j.results.filter((r: any) => r.err)
      t.true(errors.length > 0, `no write reported ENOSPC: ${JSON.stringify(j.results)}`)
      for (const e of errors) fails(t, e, 'ENOSPC', 'write', 'a write of the batch')
      sumIsSize(t, j)
    },
  },
  {
    place: 'ENOSPC',
    title: 'ring.link of 20 × 64 KiB writes at i * 64 KiB',
    arg: { scenario: 'link', count: 20, chunk: 65536 },
    same: (j) => ({ results: j.results.map(outcome), size: j.size }),
    check: (t, j) => {
      const brk = j.results.findIndex((r: any) => r.err || r.ok !== 65536)
      t.true(brk >= 0, `the chain never broke: ${JSON.stringify(j.results)}`)
      for (const [i, r] of j.results.entries()) if (i > brk) fails(t, r, 'ECANCELED', 'write', `write ${i}, after write ${brk} broke the chain`)
      sumIsSize(t, j)
    },
  },
  writeFileOf('EFBIG', false, 1 * MiB, 'EFBIG'),
  writes('EFBIG', 20, 60000, false, 'EFBIG'),
  writes('EFBIG', 20, 60000, true, 'EFBIG'),
  appends('EFBIG', 3, 300000, 'EFBIG'),
  {
    place: 'EMFILE',
    title: 'open until EMFILE; readFile/writeFile at the limit and after closing 8',
    arg: { scenario: 'emfile' },
    same: (j) => ({ openErr: outcome(j.openErr), reopen: j.reopen, afterFree: j.afterFree }),
    check: (t, j) => {
      fails(t, j.openErr, 'EMFILE', 'open', `open ${j.opened + 1}`)
      t.true(j.opened > 0, `opened ${j.opened}`)
      t.deepEqual(j.reopen, { ok: 'opened' }, 'open after closing 8 handles')
      for (const [op, r] of Object.entries<any>(j.afterFree)) {
        t.deepEqual(r, op.startsWith('readFile') ? { ok: 'correct' } : { ok: 'resolved', file: 'correct' }, `${op} after closing 8 handles`)
      }
    },
  },
  ...(['writeFile', 'open', 'mkdir'] as const).map(
    (how): Scenario => ({
      place: 'inodes',
      title: `${how === 'open' ? "open(…, 'w')" : how} until the inodes run out`,
      arg: { scenario: 'inodes', how },
      same: (j) => ({ outcome: outcome(j.outcome), created: j.created, failedExists: j.failedExists }),
      check: (t, j) => {
        fails(t, j.outcome, 'ENOSPC', how === 'mkdir' ? 'mkdir' : 'open', `${how} ${j.created + 1}`)
        t.false(j.failedExists, 'the entry whose creation failed exists')
      },
    }),
  ),
]

// ---- the tests ---------------------------------------------------------------------------------

const oracles = new Map<Scenario, Run>()
function oracle(s: Scenario): Run {
  let r = oracles.get(s)
  if (r === undefined) oracles.set(s, (r = run(places[s.place], 'fsp', s.arg)))
  return r
}

const skipped = new Set<PlaceName>()
for (const s of scenarios) {
  const place = places[s.place]
  if (place.skip !== undefined) {
    if (!skipped.has(s.place)) {
      skipped.add(s.place)
      test.serial(`${s.place}: skipped`, (t) => {
        t.log(`${s.place} scenarios skipped: ${place.skip}`)
        t.pass()
      })
    }
    continue
  }
  for (const kind of KINDS) {
    test.serial(`${s.place}: ${s.title} [${kind}]`, (t) => {
      const r = kind === 'fsp' ? oracle(s) : run(place, kind, s.arg)
      const j = result(t, kind, r)
      const mine = { ...(s.same(j) as object), content: j.content, filler: j.filler }
      if (kind !== 'fsp') {
        const o = result(t, 'the node:fs/promises run', oracle(s))
        t.deepEqual(mine, { ...(s.same(o) as object), content: o.content, filler: o.filler }, `${kind} (mode ${j.mode}) vs node:fs/promises`)
      }
      if (j.content !== undefined) t.is(j.content, 'ok', `bytes on disk: ${j.content}`)
      if (place.filler) t.is(j.filler, 'intact', 'the file that was there before')
      s.check(t, j)
      // Node ignores SIGXFSZ, so that a write over the limit fails with EFBIG and the process goes
      // on (result() required exit status 0, no signal, of every child, as of Node's).
      if (s.place === 'EFBIG') t.is(j.sigxfsz, 'ignored', 'SIGXFSZ disposition at the end of the run')
      if (s.place === 'EFBIG') t.true(j.size <= FSIZE_LIMIT, `file size ${j.size} is over the limit ${FSIZE_LIMIT}`)
      if (s.place === 'EMFILE' && kind !== 'fsp') {
        // At the limit, the io_uring readFile/writeFile (the ring's file table, no fd) may succeed
        // where node:fs fails: either Node's error, or a correct result.
        const o = oracle(s).json
        for (const [op, got] of Object.entries<any>(j.atLimit)) {
          const node = o.atLimit[op]
          const ok = op.startsWith('readFile') ? { ok: 'correct' } : { ok: 'resolved', file: 'correct' }
          const same = JSON.stringify({ ...outcome(got), file: got.file }) === JSON.stringify({ ...outcome(node), file: node.file })
          t.true(same || JSON.stringify(got) === JSON.stringify(ok), `${op} at the fd limit: ${JSON.stringify(got)}; node:fs/promises: ${JSON.stringify(node)}`)
        }
      }
    })
  }
}
