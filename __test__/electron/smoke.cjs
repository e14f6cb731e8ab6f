// The body of the Electron smoke tests: read, write, stats, a FileHandle and a worker thread
// through uring, on both backends. Run by main.cjs (Electron's main process) and utility.cjs (an
// Electron utility process); under plain Node by __test__/electron.spec.ts.
// URING_EXPECT=fallback expects the node:fs backend (a host without io_uring).
'use strict'
const assert = require('node:assert')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { Worker } = require('node:worker_threads')

async function smoke() {
  const { Ring, defaultRing } = require('uring')
  const fs = require('uring/fs')
  const expected = process.env.URING_EXPECT === 'fallback' || process.platform !== 'linux' ? 'node' : 'io_uring'
  const ring = defaultRing()
  assert.strictEqual(ring.backend, expected, `fallbackReason: ${ring.fallbackReason}`)
  const dir = mkdtempSync(join(tmpdir(), 'uring-electron-'))
  try {
    const file0 = join(dir, 'ring-0.bin')
    for (const [i, r] of [ring, new Ring({ backend: 'node' })].entries()) {
      const file = join(dir, `ring-${i}.bin`)
      const data = Buffer.alloc(300 * 1024)
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff
      await r.fs.writeFile(file, data)
      const back = await r.fs.readFile(file)
      assert.ok(back.equals(data), `${r.backend}: read back what was written`)
      const st = await r.fs.stat(file)
      assert.strictEqual(st.size, data.length)
      assert.ok(st.isFile())
      const fh = await r.fs.open(file, 'r+')
      await fh.write(Buffer.from('electron'), 0, 8, 100)
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(8), 0, 8, 100)
      assert.strictEqual(buffer.subarray(0, bytesRead).toString(), 'electron')
      assert.strictEqual((await fh.stat()).size, data.length)
      await fh.close()
      if (r !== ring) await r.close()
    }
    await assert.rejects(fs.readFile(join(dir, 'missing')), { code: 'ENOENT', syscall: 'open' })

    // A worker thread gets a ring of its own; terminating it with reads in flight must not crash.
    const worker = new Worker(join(__dirname, 'worker.cjs'), { workerData: { file: file0 } })
    const [report] = await Promise.race([
      new Promise((resolve, reject) => {
        worker.once('message', (m) => resolve([m]))
        worker.once('error', reject)
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('worker timed out')), 20000)),
    ])
    assert.strictEqual(report.backend, expected)
    assert.strictEqual(report.bytes, readFileSync(file0).length)
    await worker.terminate()
    return `backend=${ring.backend} worker=${report.backend} ${process.versions.electron ? `electron ${process.versions.electron}` : `node ${process.version}`}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { smoke }
