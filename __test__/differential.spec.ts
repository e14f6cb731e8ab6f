// The differential suite: every scenario body (differential/scenarios.ts) runs against
// node:fs/promises and against uring/fs — the default ring (`uring/fs`), an SQPOLL ring, and
// `backend: 'node'` — each in a fresh folder; the step records and the folder trees must be equal.
// `npm test` runs this file under Node 20 and Node 24.
import { mkdtempSync, rmSync } from 'node:fs'
import * as nfs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { defaultRing, Ring } from 'uring'
import * as ufs from 'uring/fs'
import { type Entry, recorder, type Run, tree } from './differential/record'
import { scenarios } from './differential/scenarios'

type Target = { name: string; fs: () => Run['fs']; ring?: () => Ring; close?: () => Promise<void> }

const linux = process.platform === 'linux'
let sqpoll: Ring | undefined
let inline: Ring | undefined
let nodeRing: Ring | undefined
const TARGETS: Target[] = [
  ...(linux
    ? [
        { name: 'uring/fs (default ring)', fs: () => ufs as unknown as Run['fs'] },
        { name: 'SQPOLL ring', fs: () => (sqpoll ??= new Ring({ sqpoll: true, backend: 'io_uring' })).fs as unknown as Run['fs'] },
        // Submits from the JS thread (DEFER_TASKRUN where the kernel has it): no submit thread.
        { name: 'submitThread: false ring', fs: () => (inline ??= new Ring({ submitThread: false, backend: 'io_uring' })).fs as unknown as Run['fs'] },
      ]
    : []),
  { name: "backend: 'node'", fs: () => (nodeRing ??= new Ring({ backend: 'node' })).fs as unknown as Run['fs'] },
]

test.after.always(async () => {
  await sqpoll?.close()
  await inline?.close()
  await nodeRing?.close()
})

async function record(fsImpl: Run['fs'], body: (run: Run) => Promise<void>): Promise<{ entries: Entry[]; tree: unknown[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'uring-diff-'))
  try {
    const { run, entries } = recorder(fsImpl, dir)
    await body(run)
    return { entries, tree: tree(dir) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const GC_CLOSE = /^Closing file descriptor \d+ on garbage collection$|^Closing a FileHandle object on garbage collection/
/** Node's own notice when readableWebStream is given a type other than 'bytes' (a step does). */
const WEB_STREAM_TYPE = /^A non-"bytes" options\.type has no effect/

/**
 * Runs `f` catching the warnings about FileHandles the garbage collector closed (collecting,
 * then flushing, garbage at the end): node:fs/promises' own are expected — the scenarios' steps
 * whose streams Node half-builds (HALF_BUILT_STREAM) leave its handle referenced, so its close()
 * never finishes and the collector closes it, with "Closing file descriptor N …" and DEP0137 —
 * and are counted, not printed; uring's (emitted from its file-handle module) are returned, for
 * the test to fail on if there are more of them than of Node's. Node's notice for the
 * readableWebStream step with an unknown `type` is expected too, and not printed.
 */
async function gcWarnings<R>(f: () => Promise<R>): Promise<{ value: R; uring: string[]; node: number }> {
  const original = process.emitWarning
  const uring: string[] = []
  let node = 0
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: any[]) {
    const message = typeof warning === 'string' ? warning : warning.message
    if (WEB_STREAM_TYPE.test(message)) return // expected: the readableWebStream({ type: 'x' }) step
    if (!GC_CLOSE.test(message)) return (original as (...a: unknown[]) => void).call(process, warning, ...rest)
    if (/file-handle\.(ts|js)/.test(new Error().stack ?? '')) uring.push(message)
    else node++
  } as typeof process.emitWarning
  try {
    const value = await f()
    for (let i = 0; i < 3; i++) {
      global.gc?.()
      await new Promise((r) => setTimeout(r, 5))
    }
    return { value, uring, node }
  } finally {
    process.emitWarning = original
  }
}

if (linux) {
  test('the default ring of uring/fs is io_uring here', (t) => {
    t.is(defaultRing().backend, 'io_uring')
  })
}

for (const [title, body] of Object.entries(scenarios)) {
  for (const target of TARGETS) {
    test.serial(`[${target.name}] ${title}`, async (t) => {
      const {
        value: [expected, actual],
        uring,
        node,
      } = await gcWarnings(async () => [await record(nfs, body), await record(target.fs(), body)] as const)
      // No more than node:fs/promises itself in the same steps (Node 24 leaves readableWebStream(5)'s
      // handle to the collector, and uring does as Node does; Node 20 leaks only its half-built streams).
      t.true(uring.length <= node, `uring left ${uring.length} FileHandles for the garbage collector to close, node:fs/promises ${node}: ${uring.join('; ')}`)
      t.true(expected.entries.length > 0)
      // Entry by entry first, so that a failure names the step.
      const n = Math.max(expected.entries.length, actual.entries.length)
      for (let i = 0; i < n; i++) t.deepEqual(actual.entries[i], expected.entries[i])
      t.deepEqual(actual.tree, expected.tree)
    })
  }
}

test('the comparison catches a difference: one wrong byte in readFile', async (t) => {
  // A node:fs/promises whose readFile adds a byte: the suite must see it.
  const wrong = { ...nfs, readFile: async (...a: any[]) => Buffer.concat([await (nfs.readFile as any)(...a), Buffer.from('!')]) }
  const body = scenarios['readFile, writeFile, appendFile: encodings, flags, data kinds, failures']
  const a = await record(nfs, body)
  const b = await record(wrong as unknown as Run['fs'], body)
  t.notDeepEqual(a.entries, b.entries)
  // And an error with another code is seen too.
  const wrongErr = { ...nfs, unlink: async () => Promise.reject(Object.assign(new Error('x'), { code: 'EPERM' })) }
  const c = await record(wrongErr as unknown as Run['fs'], scenarios['directories: mkdir, rmdir, readdir, opendir, mkdtemp, rm, cp, rename, unlink'])
  const d = await record(nfs, scenarios['directories: mkdir, rmdir, readdir, opendir, mkdtemp, rm, cp, rename, unlink'])
  t.notDeepEqual(c.entries, d.entries)
})

test('uring/fs and ring.fs have every function of node:fs/promises, and FileHandle every method', async (t) => {
  const ring = new Ring({ backend: 'node' })
  try {
    for (const [name, value] of Object.entries(nfs)) {
      if (name === 'default') continue
      t.is(typeof (ufs as Record<string, unknown>)[name], typeof value, `uring/fs.${name}`)
      t.is(typeof (ring.fs as unknown as Record<string, unknown>)[name], typeof value, `ring.fs.${name}`)
    }
    const nh = await nfs.open(__filename)
    const uh = await ufs.open(__filename)
    try {
      for (const key of [...Object.getOwnPropertyNames(Object.getPrototypeOf(nh)), Symbol.asyncDispose]) {
        if (key === 'getAsyncId') continue
        t.is(typeof (uh as any)[key], typeof (nh as any)[key], `FileHandle.${String(key)}`)
      }
    } finally {
      await nh.close()
      await uh.close()
    }
  } finally {
    await ring.close()
  }
})
