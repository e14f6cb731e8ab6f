// `uring/register` (issue #18): under `--require` or `--import`, node:fs/promises, fs.promises
// and fs/promises of the whole process (ES named imports included) run on uring, on each
// backend; uring's own delegations to node:fs do not loop back into it; a uring FileHandle is
// one node:fs streams accept as `options.fd`. Each case runs in a child process.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { BACKENDS } from './helpers'

const register = join(__dirname, '..', 'packages', 'uring', 'dist', 'register.js')
const uringFs = join(__dirname, '..', 'packages', 'uring', 'dist', 'fs.js')
const uring = join(__dirname, '..', 'packages', 'uring', 'dist', 'index.js')

function run(t: { teardown(f: () => void): void }, file: string, body: string, flags: string[], backend: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uring-register-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, file)
  writeFileSync(path, body)
  const r = spawnSync(process.execPath, [...flags, path], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, URING_BACKEND: backend } })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

for (const backend of BACKENDS) {
  test(`[${backend}] --require: fs.promises, fs/promises and node:fs/promises are uring's, and run on the default ring`, (t) => {
    const r = run(
      t,
      'app.cjs',
      `
      const assert = require('node:assert')
      const ufs = require(${JSON.stringify(uringFs)})
      const { defaultRing } = require(${JSON.stringify(uring)})
      const fsp = require('node:fs/promises')
      assert.strictEqual(require('fs').promises, fsp)
      assert.strictEqual(require('fs/promises'), fsp)
      for (const name of ['readFile', 'writeFile', 'stat', 'mkdir', 'rename', 'unlink', 'access', 'readdir', 'rm'])
        assert.strictEqual(fsp[name], ufs[name], name)
      assert.strictEqual(fsp.constants, require('node:fs').constants)
      ;(async () => {
        const before = defaultRing().stats().submitted
        await fsp.writeFile('a.txt', 'hello')
        assert.strictEqual(await fsp.readFile('a.txt', 'utf8'), 'hello')
        // Delegated to node:fs (no opcode): must not come back into uring forever.
        await fsp.access('a.txt')
        assert.deepStrictEqual(await fsp.readdir('.'), ['a.txt', 'app.cjs'])
        await fsp.cp('a.txt', 'b.txt')
        assert.ok(defaultRing().stats().submitted > before)
        console.log('ok', defaultRing().mode === 'node' ? 'node' : 'io_uring')
      })().catch((e) => { console.error(e); process.exit(1) })
    `,
      ['--require', register],
      backend,
    )
    t.is(r.status, 0, r.out)
    t.regex(r.out, new RegExp(`^ok ${backend}$`, 'm'))
  })

  test(`[${backend}] --import: ES named imports of node:fs/promises are uring's`, (t) => {
    const r = run(
      t,
      'app.mjs',
      `
      import assert from 'node:assert'
      import { readFile, open } from 'node:fs/promises'
      import * as ufs from ${JSON.stringify(uringFs)}
      assert.strictEqual(readFile, ufs.readFile)
      const fh = await open(${JSON.stringify(uringFs)})
      assert.ok(fh instanceof ufs.FileHandle)
      await fh.close()
      console.log('ok')
    `,
      ['--import', register],
      backend,
    )
    t.is(r.status, 0, r.out)
    t.regex(r.out, /^ok$/m)
  })

  test(`[${backend}] a uring FileHandle works as options.fd of node:fs streams, which close it`, (t) => {
    const r = run(
      t,
      'app.cjs',
      `
      const assert = require('node:assert')
      const fs = require('node:fs')
      const { FileHandle } = require(${JSON.stringify(uringFs)})
      ;(async () => {
        fs.writeFileSync('in.txt', 'x'.repeat(200000))
        const fh = await fs.promises.open('in.txt')
        assert.ok(fh instanceof FileHandle)
        let closed = 0
        fh.on('close', () => closed++)
        let n = 0
        for await (const chunk of fs.createReadStream(null, { fd: fh })) n += chunk.length
        assert.strictEqual(n, 200000)
        assert.strictEqual(closed, 1)
        assert.strictEqual(fh.fd, -1)
        const out = await fs.promises.open('out.txt', 'w')
        const ws = fs.createWriteStream(null, { fd: out })
        ws.end('written through node:fs')
        await new Promise((resolve, reject) => ws.on('close', resolve).on('error', reject))
        assert.strictEqual(fs.readFileSync('out.txt', 'utf8'), 'written through node:fs')
        console.log('ok')
      })().catch((e) => { console.error(e); process.exit(1) })
    `,
      ['--require', register],
      backend,
    )
    t.is(r.status, 0, r.out)
    t.regex(r.out, /^ok$/m)
  })
}

test('without register, node:fs/promises is left alone', (t) => {
  const r = run(
    t,
    'app.cjs',
    `
    const assert = require('node:assert')
    const ufs = require(${JSON.stringify(uringFs)})
    const fsp = require('node:fs/promises')
    assert.notStrictEqual(fsp.readFile, ufs.readFile)
    assert.throws(() => require('node:fs').createReadStream(null, { fd: {} }), { code: 'ERR_INVALID_ARG_TYPE' })
    console.log('ok')
  `,
    [],
    'auto',
  )
  t.is(r.status, 0, r.out)
  t.regex(r.out, /^ok$/m)
})

for (const backend of BACKENDS) {
  test(`[${backend}] readFile, writeFile and appendFile of uring/fs take a FileHandle of node:fs/promises too, as Node's do`, (t) => {
    const r = run(
      t,
      'app.cjs',
      `
      const assert = require('node:assert')
      const ufs = require(${JSON.stringify(uringFs)})
      const fsp = require('node:fs/promises')
      ;(async () => {
        const fh = await fsp.open('f.txt', 'w+')
        await ufs.writeFile(fh, 'abc')
        await ufs.appendFile(fh, 'def')
        assert.strictEqual(await fsp.readFile('f.txt', 'utf8'), 'abcdef')
        await fh.close()
        const rh = await fsp.open('f.txt')
        assert.strictEqual(await ufs.readFile(rh, 'utf8'), 'abcdef')
        await rh.close()
        await assert.rejects(ufs.readFile({ fd: 1 }), { code: 'ERR_INVALID_ARG_TYPE' })
        console.log('ok')
      })().catch((e) => { console.error(e); process.exit(1) })
    `,
      [],
      backend,
    )
    t.is(r.status, 0, r.out)
    t.regex(r.out, /^ok$/m)
  })
}

for (const backend of BACKENDS) {
  test(`[${backend}] a uring FileHandle goes into a worker's transferList: the worker gets the same open file, the sender's handle is closed without 'close'`, (t) => {
    const r = run(
      t,
      'app.cjs',
      `
      const assert = require('node:assert')
      const fs = require('node:fs')
      const fsp = require('node:fs/promises')
      const { Worker, MessageChannel, isMainThread, parentPort, workerData } = require('node:worker_threads')
      const { FileHandle } = require(${JSON.stringify(join(__dirname, '..', 'packages', 'uring', 'dist', 'file-handle.js'))})
      const fds = () => fs.readdirSync('/proc/self/fd').length
      const dataClone = (message) => ({ name: 'DataCloneError', code: 25, message })
      if (!isMainThread) {
        const fh = workerData.fh
        fh.read(Buffer.alloc(64), 0, 64, null).then(async ({ bytesRead, buffer }) => {
          parentPort.postMessage(buffer.toString('latin1', 0, bytesRead))
          await fh.close()
        })
        return
      }
      const toWorker = (fh) => new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { fh }, transferList: [fh] })
        let got
        w.once('message', (m) => (got = m))
        w.once('error', reject)
        w.once('exit', () => resolve(got))
      })
      ;(async () => {
        fs.writeFileSync('f.txt', 'hello world')
        // Counted once the ring and register's first carrier are open.
        await (await fsp.open('f.txt')).close()
        const before = fds()
        for (let round = 0; round < 3; round++) {
          const fh = await fsp.open('f.txt', 'r')
          assert.ok(fh instanceof FileHandle)
          fh.on('close', () => { throw new Error("the sender's handle emitted 'close'") })
          // The position moves with the file: the worker reads on from byte 3.
          assert.strictEqual((await fh.read(Buffer.alloc(3), 0, 3, null)).bytesRead, 3)
          assert.strictEqual(await toWorker(fh), 'lo world')
          assert.strictEqual(fh.fd, -1)
          await assert.rejects(fh.stat(), { code: 'EBADF' })
          await fh.close()
        }
        const mc = new MessageChannel()
        const locked = await fsp.open('f.txt', 'r')
        const stream = locked.createReadStream()
        assert.throws(() => mc.port2.postMessage(locked, [locked]), dataClone('Cannot transfer FileHandle while in use'))
        const nodeStream = fs.createReadStream(null, { fd: locked, autoClose: false })
        stream.destroy()
        assert.throws(() => mc.port2.postMessage(locked, [locked]), dataClone('Cannot transfer FileHandle while in use'))
        nodeStream.destroy()
        await new Promise((resolve) => nodeStream.on('close', resolve))
        const web = await fsp.open('f.txt', 'r')
        web.readableWebStream()
        assert.throws(() => mc.port2.postMessage(web, [web]), dataClone('Cannot transfer FileHandle while in use'))
        const reading = await fsp.open('f.txt', 'r')
        const pending = reading.read(Buffer.alloc(4), 0, 4, 0)
        assert.throws(() => mc.port2.postMessage(reading, [reading]), dataClone('Cannot transfer FileHandle while in use'))
        await pending
        const closed = await fsp.open('f.txt', 'r')
        await closed.close()
        assert.throws(() => mc.port2.postMessage(closed, [closed]), { name: 'DataCloneError', code: 25 })
        assert.throws(() => mc.port2.postMessage({ reading }), (e) => /not listed in transferList/.test(e.message))
        // Refused transfers leave the handle as it was.
        assert.strictEqual((await reading.read(Buffer.alloc(5), 0, 5, 6)).buffer.toString(), 'world')
        await Promise.all([locked.close(), web.close(), reading.close()])
        mc.port1.close()
        await new Promise((resolve) => setTimeout(resolve, 50))
        assert.strictEqual(fds(), before, 'no fd left open')
        console.log('ok')
      })().catch((e) => { console.error(e); process.exit(1) })
    `,
      ['--require', register],
      backend,
    )
    t.is(r.status, 0, r.out)
    t.regex(r.out, /^ok$/m)
    t.notRegex(r.out, /Warning/, 'no warning (garbage-collection close, deprecation)')
  })
}
