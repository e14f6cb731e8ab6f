// Install smoke test, ESM: the same package instance as require('uring'), and a loopback socket
// through uring/net. URING_EXPECT=fallback: see smoke.cjs.
import assert from 'node:assert'
import { createRequire } from 'node:module'
import uring, { defaultRing } from 'uring'
import { readFile } from 'uring/fs'
import { connect, listen } from 'uring/net'

const expected = process.env.URING_EXPECT === 'fallback' ? 'node' : 'io_uring'
assert.strictEqual(defaultRing().backend, expected, `fallbackReason: ${defaultRing().fallbackReason}`)
assert.strictEqual(createRequire(import.meta.url)('uring').defaultRing, uring.defaultRing, 'one module instance')
assert.ok((await readFile(new URL(import.meta.url))).length > 0)
const server = await listen({ host: '127.0.0.1', port: 0 })
const accepted = server.accept()
const c = await connect({ host: '127.0.0.1', port: server.address().port })
const s = await accepted
await c.write('ping')
assert.strictEqual((await s.read()).toString(), 'ping')
await c.close()
await s.close()
await server.close()
console.log(`esm ok ${process.version} backend=${expected}`)
