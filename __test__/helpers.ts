// Shared by the test files: every behavioural test runs once per backend with the same body.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { type BackendKind, Ring, type RingOptions } from 'uring'

/** io_uring is expected wherever Linux is (CI runs there); elsewhere only the fallback is tested. */
export const BACKENDS: BackendKind[] = process.platform === 'linux' ? ['io_uring', 'node'] : ['node']

export interface Ctx {
  backend: BackendKind
  ring: Ring
  dir: string
}

/** Registers `body` once per backend; each run gets its own ring and scratch directory. */
export function each(title: string, body: (t: ExecutionContext, c: Ctx) => Promise<void> | void, options: Omit<RingOptions, 'backend'> = {}): void {
  for (const backend of BACKENDS) {
    test(`[${backend}] ${title}`, async (t) => {
      // backend: 'io_uring' throws (ERR_IO_URING_UNAVAILABLE) rather than silently falling back.
      const ring = new Ring({ ...options, backend })
      t.is(ring.backend, backend)
      const dir = mkdtempSync(join(tmpdir(), 'uring-test-'))
      try {
        await body(t, { backend, ring, dir })
      } finally {
        await ring.close()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
}

/** Bytes whose value at file offset `i` is known: `pattern(i)`. */
export function pattern(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 2654435761) >>> 24
  return b
}

/** Runs `f`, returning what it threw (or undefined). */
export async function caught(f: () => unknown): Promise<any> {
  try {
    await f()
  } catch (e) {
    return e
  }
  return undefined
}

/** The parts of an error that code written against node:fs relies on. */
export function errorShape(e: any): Record<string, unknown> {
  if (e === undefined) return { threw: false }
  return { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message, isError: e instanceof Error }
}

/** What `inChild` saw: how the child ended, and what the body returned (JSON) or threw. */
export interface ChildOutcome {
  status: number | null
  signal: NodeJS.Signals | null
  value?: unknown
  error?: { name: string; code: unknown; message: string }
  stderr: string
}

/**
 * Runs `body` — the statements of an async function with `ring` (a Ring on `backend`), `fs`
 * (`ring.fs`), `dir` and `Ring` in scope — in a child process, so that a call that would abort
 * the process (a failed assertion in Node's C++) fails the test instead of killing the runner.
 */
export function inChild(backend: BackendKind, dir: string, body: string): ChildOutcome {
  const script = `
    const { Ring } = require(${JSON.stringify(join(__dirname, '../packages/uring/dist/index.js'))})
    const ring = new Ring({ backend: ${JSON.stringify(backend)} })
    const fs = ring.fs
    const dir = ${JSON.stringify(dir)}
    const print = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
    ;(async () => { ${body} })()
      .then((value) => print({ value: value === undefined ? null : value }), (e) => print({ error: { name: e?.name, code: e?.code, message: String(e?.message) } }))
      .finally(() => ring.close())`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  const last = r.stdout.trim().split('\n').pop()
  let parsed: { value?: unknown; error?: ChildOutcome['error'] } = {}
  try {
    if (last) parsed = JSON.parse(last)
  } catch {}
  return { status: r.status, signal: r.signal, stderr: r.stderr, ...parsed }
}
