// Lifecycles that need a process or thread of their own: exiting, worker termination, and a
// host where io_uring is forbidden (kernel.io_uring_disabled).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import test from 'ava'
import { BACKENDS, pattern } from './helpers'

const here = __dirname
const child = join(here, 'fixtures/child.cjs')
const lib = join(here, '../packages/uring/dist/index.js')
const dataDir = fs.mkdtempSync(join(require('node:os').tmpdir(), 'uring-proc-'))
const file = join(dataDir, 'data.bin')
fs.writeFileSync(file, pattern(0, 256 * 1024))
test.after.always(() => fs.rmSync(dataDir, { recursive: true, force: true }))

function run(mode: string, backend: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [child, mode, file], {
    env: { ...process.env, URING_BACKEND: backend, ...extraEnv },
    encoding: 'utf8',
    timeout: 20000,
  })
  return { ...r, json: r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').pop()!) : undefined }
}

for (const backend of BACKENDS) {
  test.serial(`[${backend}] an idle ring lets the process exit`, (t) => {
    for (const mode of ['idle-unused', 'idle-after-ops']) {
      const r = run(mode, backend)
      t.is(r.error, undefined, `${mode}: ${r.error}`) // a timeout would set error (ETIMEDOUT)
      t.is(r.signal, null, mode)
      t.is(r.status, 0, `${mode}: ${r.stderr}`)
      t.is(r.json.backend, backend, mode)
      if (mode === 'idle-after-ops') t.is(r.json.bytes, 256 * 1024)
    }
  })

  test.serial(`[${backend}] process.exit with ops in flight exits cleanly`, (t) => {
    for (let i = 0; i < 5; i++) {
      const r = run('exit-in-flight', backend)
      t.is(r.signal, null, r.stderr)
      t.is(r.status, 0, r.stderr)
      t.true(r.json.inFlight > 0)
      t.notRegex(r.stderr, /panic|Assertion|FATAL|Segmentation/i)
    }
  })

  test.serial(`[${backend}] workers terminated with ops in flight and handles open: no crash, no fd leak`, async (t) => {
    // Open fds of this process, except module files the TypeScript loader (tsx) may be reading
    // concurrently on its own thread (seen on a cold clean-clone run).
    const fds = () =>
      fs
        .readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return `${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`
          } catch {
            return `${fd} (gone)`
          }
        })
        .filter((x) => !x.includes('/node_modules/') && !x.endsWith('(gone)'))
    // One warm-up worker: the first Worker creates process-wide resources (e.g. the inspector's).
    const once = async () => {
      // Its stderr is captured: the warnings its handles left open cause are expected here (the
      // FileHandle collected before the end: "Closing file descriptor N on garbage collection";
      // that handle's fd, opened by io_uring and closed through node:fs in the worker: Node's
      // "closed but not opened in unmanaged mode") and checked to be the only output.
      const w = new Worker(join(here, 'fixtures/worker.cjs'), { workerData: { file, lib }, env: { ...process.env, URING_BACKEND: backend }, stderr: true })
      let stderr = ''
      w.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const msg: { fds: number[]; owned: number[]; inFlight: number; backend: string } = await new Promise((resolve, reject) => {
        w.once('message', resolve)
        w.once('error', reject)
      })
      t.is(msg.backend, backend)
      t.true(msg.inFlight > 0)
      const code = await w.terminate()
      t.is(code, 1)
      await new Promise((r) => setImmediate(r))
      const unexpected = stderr
        .split('\n')
        .filter(
          (l) =>
            l !== '' &&
            !/^\(node:\d+\) Warning: (Closing file descriptor \d+ on garbage collection|File descriptor \d+ closed but not opened in unmanaged mode)$|^\(node:\d+\) \[DEP0137\] DeprecationWarning: Closing a FileHandle object on garbage collection is deprecated|^\(Use `node --trace-warnings/.test(
              l,
            ),
        )
      t.deepEqual(unexpected, [], `the worker wrote: ${stderr}`)
      // The FileHandles and sockets left open on io_uring were closed by the ring as the thread
      // ended (their numbers may be reused since, but not for this file).
      if (backend === 'io_uring') t.is(msg.owned.length, 2)
      for (const fd of msg.owned) {
        // Node 24 can resolve terminate() while the env's cleanup hooks (which close them) still
        // run: allow them a moment; a leaked fd stays open for good.
        let target = ''
        for (const deadline = Date.now() + 2000; ; await new Promise((r) => setTimeout(r, 10))) {
          try {
            target = fs.readlinkSync(`/proc/self/fd/${fd}`)
          } catch {
            target = ''
          }
          if (target !== file || Date.now() > deadline) break
        }
        // (The worker's `spare` handle may be collected before the end: its finalizer closes the
        // fd. That close was asynchronous and could be lost with the thread; later the finalizer's
        // disown and close were two steps the termination could fall between: both leaks seen on
        // Node 24, about 1 run in 4; the ring now forgets and closes in one native call.)
        t.not(target, file, `fd ${fd} of a FileHandle left open in the worker`)
      }
      // Node closes fds its fs opened in a terminated worker; the rest (the node backend's
      // FileHandles, the FIFO the worker made) the test closes. Whatever else remains is a leak.
      for (const fd of msg.fds) {
        let target = ''
        try {
          target = fs.readlinkSync(`/proc/self/fd/${fd}`)
        } catch {}
        if (target === file || target.includes('uring-fifo-')) fs.closeSync(fd)
      }
    }
    // Each worker's ring has its own submit thread: it must end with the ring.
    const submitThreads = () =>
      fs.readdirSync('/proc/self/task').filter((id) => {
        try {
          return fs.readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim() === 'uring-submit'
        } catch {
          return false
        }
      }).length
    await once()
    const before = fds()
    const threadsBefore = submitThreads()
    for (let i = 0; i < 20; i++) await once()
    // Rings are freed by the env cleanup hook, before termination completes.
    const after = fds()
    t.is(after.length, before.length, `new: ${after.filter((x) => !before.includes(x)).join(', ')}`)
    t.is(submitThreads(), threadsBefore)
  })
}

const SYSCTL = '/proc/sys/kernel/io_uring_disabled'
const canSysctl =
  process.platform === 'linux' &&
  (() => {
    try {
      fs.accessSync(SYSCTL, fs.constants.W_OK)
      return true
    } catch {
      return false
    }
  })()

// Changes a machine-wide setting: runs serially, in a file of serial tests, and restores it.
;(canSysctl ? test.serial : test.skip)('kernel.io_uring_disabled=2 makes auto fall back to node:fs and says why', (t) => {
  const saved = fs.readFileSync(SYSCTL, 'utf8').trim()
  let r: ReturnType<typeof run> | undefined
  try {
    fs.writeFileSync(SYSCTL, '2')
    r = run('backend-report', 'auto')
  } finally {
    fs.writeFileSync(SYSCTL, saved)
  }
  t.is(fs.readFileSync(SYSCTL, 'utf8').trim(), saved)
  t.is(r.status, 0, r.stderr)
  t.is(r.json.backend, 'node')
  t.regex(r.json.reason, /EPERM/)
  t.is(r.json.strict, 'ERR_IO_URING_UNAVAILABLE')
  t.is(r.json.bytes, 256 * 1024)
  // And with it enabled again, the same child gets io_uring.
  const again = run('backend-report', 'auto')
  t.is(again.json.backend, 'io_uring')
  t.is(again.json.strict, 'ok')
})

// A binary that is present but cannot be loaded (another libc or architecture, a truncated
// download): import must still work, fall back to node:fs and say what the loader said.
// A copy of the package whose .node file is not an ELF object stands in for it.
;(process.platform === 'linux' ? test : test.skip)('a binary that fails to load: import falls back and says why', (t) => {
  const pkg = join(here, '../packages/uring')
  const copy = fs.mkdtempSync(join(require('node:os').tmpdir(), 'uring-badbin-'))
  try {
    fs.cpSync(join(pkg, 'dist'), join(copy, 'dist'), { recursive: true })
    for (const f of ['binding.js', 'package.json']) fs.copyFileSync(join(pkg, f), join(copy, f))
    const binary = fs.readdirSync(pkg).find((f) => f.endsWith('.node'))!
    fs.writeFileSync(join(copy, binary), 'not an ELF object')
    const script = `
      const { Ring, defaultRing } = require(${JSON.stringify(join(copy, 'dist/index.js'))})
      const ring = defaultRing()
      let strict
      try { new Ring({ backend: 'io_uring' }) } catch (e) { strict = e.code }
      ring.fs.readFile(${JSON.stringify(file)}).then((b) => console.log(JSON.stringify({ backend: ring.backend, reason: ring.fallbackReason, strict, bytes: b.length })))
    `
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, URING_BACKEND: 'auto' } })
    t.is(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    t.is(out.backend, 'node')
    t.regex(out.reason, new RegExp(`no native binary could be loaded for linux-${process.arch}-(gnu|musl)`))
    t.regex(out.reason, /invalid ELF header|file too short/, out.reason)
    t.is(out.strict, 'ERR_IO_URING_UNAVAILABLE')
    t.is(out.bytes, 256 * 1024)
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
})

test.serial('a binding load that runs out of fds is retried by the next Ring, and says why', (t) => {
  if (process.platform !== 'linux') return t.pass()
  // It used to be remembered for good, with the reason "the optional package ... is missing".
  const r = spawnSync('bash', ['-c', `ulimit -n 64; exec "${process.execPath}" "${child}" load-emfile "${file}"`], { encoding: 'utf8', timeout: 20000 })
  t.is(r.status, 0, r.stderr)
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.is(json.first.backend, 'node')
  t.regex(json.first.reason, /EMFILE|too many open files/i)
  t.notRegex(json.first.reason, /is missing/)
  t.is(json.second.backend, 'io_uring', JSON.stringify(json))
})
