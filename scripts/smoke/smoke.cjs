// Install smoke test, CommonJS (scripts/install-test.mjs copies it into a fresh project).
// With a binary for this platform: io_uring must be the backend. URING_EXPECT=fallback: no
// binary or no Linux; the node:fs/node:net backend must serve the same calls, and
// `fallbackReason` must match URING_EXPECT_REASON (a regular expression).
'use strict'
const assert = require('node:assert')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const { join } = require('node:path')
const { Ring, defaultRing } = require('uring')
const fs = require('uring/fs')
const net = require('uring/net')

const expectFallback = process.env.URING_EXPECT === 'fallback'

;(async () => {
  const ring = defaultRing()
  if (expectFallback) {
    assert.strictEqual(ring.backend, 'node')
    assert.match(String(ring.fallbackReason), new RegExp(process.env.URING_EXPECT_REASON || '.'))
    assert.throws(() => new Ring({ backend: 'io_uring' }), { code: 'ERR_IO_URING_UNAVAILABLE' })
  } else {
    assert.strictEqual(ring.backend, 'io_uring', `fell back: ${ring.fallbackReason}`)
    assert.strictEqual(ring.fallbackReason, undefined)
  }
  const text = await fs.readFile(__filename, 'utf8')
  assert.strictEqual(text, readFileSync(__filename, 'utf8'))
  assert.ok(ring.stats().completed > 0)

  // write, stat, read back, errors shaped like node:fs's
  // Beside this script: os.tmpdir() follows the faked platform (fake-platform.cjs).
  const dir = mkdtempSync(join(__dirname, 'scratch-'))
  try {
    const file = join(dir, 'a.txt')
    await fs.writeFile(file, 'hello')
    assert.strictEqual((await fs.stat(file)).size, 5)
    const fh = await fs.open(file, 'r')
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(5), 0, 5, 0)
    assert.strictEqual(buffer.subarray(0, bytesRead).toString(), 'hello')
    await fh.close()
    await assert.rejects(fs.readFile(join(dir, 'missing')), { code: 'ENOENT', syscall: 'open' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  const forced = new Ring({ backend: 'node' })
  assert.strictEqual(forced.backend, 'node')
  await forced.close()
  assert.strictEqual(typeof net.listen, 'function')
  console.log(`cjs ok ${process.version} backend=${ring.backend}${expectFallback ? ` (${ring.fallbackReason})` : ` mode=${ring.mode}`}`)
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
