// Runs the own test suite of a real fs/promises-heavy package, unmodified, under uring/register
// (issue #18): each package of __test__/third-party/<name>/ (SOURCE.json: where its test files
// came from, their sha256, what to install from the npm registry, what to run) is installed into
// .runtimes/third-party/<name>/ on first use, then its tests run three ways — plain Node, and with
// `--require uring/register` on each backend — each in a fresh process. When run as root, the
// tests run as nobody (uid 65534): suites check permission errors that root does not get. Under
// io_uring the run must also show that the default ring made the ops (a preload reports its
// stats at exit). Fails unless all three pass.
//   node scripts/third-party-tests.mjs
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { changedFiles } from './vendored.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const register = join(root, 'packages', 'uring', 'dist', 'register.js')
const uring = join(root, 'packages', 'uring', 'dist', 'index.js')
const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
let failed = 0

for (const name of readdirSync(join(root, '__test__', 'third-party'))) {
  const dir = join(root, '__test__', 'third-party', name)
  const src = JSON.parse(readFileSync(join(dir, 'SOURCE.json'), 'utf8'))
  const changed = changedFiles(dir, src.files)
  if (changed.length > 0) throw new Error(`${name}: ${changed.join(', ')} differ(s) from SOURCE.json`)
  const prefix = join(root, '.runtimes', 'third-party', name)
  const marker = join(prefix, 'installed.json')
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== JSON.stringify(src.install)) {
    rmSync(prefix, { recursive: true, force: true })
    mkdirSync(prefix, { recursive: true })
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ name: `third-party-${name}`, private: true }))
    console.log(`third-party: installing ${src.install.join(' ')} into ${prefix}`)
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, ...src.install], { stdio: 'inherit' })
    if (r.status !== 0) process.exit(r.status ?? 1)
    writeFileSync(marker, JSON.stringify(src.install))
  }
  // The suite as the package's repository lays it out: its build beside its tests.
  const suite = join(prefix, 'suite')
  rmSync(suite, { recursive: true, force: true })
  mkdirSync(suite, { recursive: true })
  for (const f of Object.keys(src.files)) cpSync(join(dir, f), join(suite, f), { recursive: true })
  for (const [from, to] of Object.entries(src.copy)) cpSync(join(prefix, from), join(suite, to))
  writeFileSync(join(suite, 'package.json'), JSON.stringify({ name, type: 'module' }))
  symlinkSync(join(prefix, 'node_modules'), join(suite, 'node_modules'))
  const report = join(prefix, 'report.cjs')
  writeFileSync(
    report,
    `process.on('exit', () => { try { const r = require(${JSON.stringify(uring)}).defaultRing(); process.stderr.write('\\nuring-stats ' + JSON.stringify({ mode: r.mode, submitted: r.stats().submitted }) + '\\n') } catch {} })\n`,
  )
  for (const p of [prefix, suite]) chmodSync(p, 0o755)
  const modes = [
    ['plain Node', [], {}],
    ['uring/register, io_uring', ['--require', register, '--require', report], { URING_BACKEND: 'io_uring' }],
    ['uring/register, node backend', ['--require', register, '--require', report], { URING_BACKEND: 'node' }],
  ]
  for (const [label, args, env] of modes) {
    for (const file of src.run) {
      const r = spawnSync(process.execPath, [...args, file], { cwd: suite, encoding: 'utf8', timeout: 300_000, ...asNobody, env: { ...process.env, ...env, HOME: '/tmp' } })
      const out = `${r.stdout}${r.stderr}`
      const stats = /^uring-stats (.*)$/m.exec(out)
      const s = stats ? JSON.parse(stats[1]) : undefined
      const summary = (out.match(/^\d+ tests? passed.*$|^.*✕.*$/gm) ?? []).join('; ')
      let ok = r.status === 0
      if (ok && env.URING_BACKEND === 'io_uring' && !(s && s.mode !== 'node' && s.submitted > 0)) ok = false
      console.log(
        `third-party ${name}@${src.version} ${file} on ${label}: ${ok ? 'pass' : 'FAIL'} (exit ${r.status}${r.signal ? ` ${r.signal}` : ''}${s ? `, ring ${s.mode}, ${s.submitted} ops submitted` : ''}) ${summary}`,
      )
      if (!ok) {
        failed++
        console.log(out.split('\n').slice(-40).join('\n'))
      }
    }
  }
}
process.exit(failed === 0 ? 0 : 1)
