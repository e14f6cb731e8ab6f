// Runs Node's own fs/promises tests (vendored by scripts/vendor-node-tests.mjs into
// __test__/node-suite/v<major>/) under this Node, three ways each: plain Node (the oracle), and
// with `--require uring/register` on each backend (URING_BACKEND=io_uring, URING_BACKEND=node).
// Only files that pass on plain Node count. Each file runs in a fresh process with the flags its
// `// Flags:` line names, in a temporary NODE_TEST_DIR of its own, two at a time.
//
// Without options it compares the outcome with the committed one
// (__test__/node-suite/results-v<major>.json) and fails on any difference — a file that newly
// fails, or one on the list that now passes, so the documented list stays true. `--record`
// writes the results file and README's compatibility table instead. `--only NAME` runs one file
// and prints its output.
//   node scripts/node-tests.mjs [--record] [--only test-fs-promises.js]
//   node scripts/with-node.mjs 24 scripts/node-tests.mjs
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { changedFiles } from './vendored.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: a } = parseArgs({ options: { record: { type: 'boolean', default: false }, only: { type: 'string' }, jobs: { type: 'string', default: '2' } } })
const major = Number(process.versions.node.split('.')[0])
const suite = join(root, '__test__', 'node-suite', `v${major}`)
const source = JSON.parse(readFileSync(join(suite, 'SOURCE.json'), 'utf8'))
const register = join(root, 'packages', 'uring', 'dist', 'register.js')
const resultsFile = join(root, '__test__', 'node-suite', `results-v${major}.json`)
/** How long one file may run. Node's own runner gives a test 120 s on slow machines. */
const TIMEOUT_MS = 120_000

// The copies are Node's, unmodified: a changed file would make the comparison meaningless.
const changed = changedFiles(suite, source.files)
if (changed.length > 0) {
  console.error(`node-tests: ${changed.length} vendored file(s) differ from SOURCE.json: ${changed.join(', ')}`)
  process.exit(1)
}

export const MODES = {
  node: { args: [], env: {} },
  io_uring: { args: ['--require', register], env: { URING_BACKEND: 'io_uring' } },
  nodeBackend: { args: ['--require', register], env: { URING_BACKEND: 'node' } },
}

/** The flags a Node test names on its `// Flags:` line. */
function flagsOf(file) {
  const m = /^\/\/ Flags: (.*)$/m.exec(readFileSync(file, 'utf8'))
  return m ? m[1].trim().split(/\s+/) : []
}

/** Runs one file one way: 'pass', 'skip' (Node's common.skip) or 'fail', and the output's tail. */
function run(name, mode) {
  const file = join(suite, 'test', 'parallel', name)
  const dir = mkdtempSync(join(tmpdir(), 'uring-node-test-'))
  const { args, env } = MODES[mode]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flagsOf(file), ...args, file], {
      cwd: dir,
      env: { ...process.env, ...env, NODE_TEST_DIR: dir, NODE_SKIP_FLAG_CHECK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
      const outcome = code === 0 ? (/^1\.\.0 # Skipped/m.test(out) ? 'skip' : 'pass') : 'fail'
      resolve({ outcome, code, signal, out })
    })
  })
}

/** The first line of a failure that says what went wrong. */
function reasonOf(r) {
  if (r.signal) return `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (timeout)' : ''}`
  const lines = r.out.split('\n').map((l) =>
    l
      .trim()
      .replace(/^\[/, '')
      .replace(/^\(node:\d+\) /, ''),
  )
  const hit =
    lines.find((l) => /^\w*(Error|Exception)( \[\w+\])?:/.test(l)) ??
    lines.find((l) => /^(Mismatched|Missing)\b/.test(l)) ??
    lines.find((l) => l.length > 0 && !l.startsWith('node:internal') && !/internal\/test\/binding|^\(Use `node/.test(l))
  return (hit ?? `exit ${r.code}`).slice(0, 200)
}

const names = a.only ? [a.only] : source.tests
const results = {}
let next = 0
async function worker() {
  while (next < names.length) {
    const name = names[next++]
    const r = { node: await run(name, 'node') }
    if (r.node.outcome === 'pass') {
      r.io_uring = await run(name, 'io_uring')
      r.nodeBackend = await run(name, 'nodeBackend')
    }
    results[name] = r
    if (a.only) for (const [m, x] of Object.entries(r)) console.log(`--- ${m}: ${x.outcome} (exit ${x.code}${x.signal ? `, ${x.signal}` : ''})\n${x.out}`)
  }
}
await Promise.all(Array.from({ length: Math.max(1, Number(a.jobs)) }, worker))

const now = { node: process.version, tag: source.tag, files: {} }
for (const name of names) {
  const r = results[name]
  const e = { node: r.node.outcome }
  if (r.node.outcome !== 'pass') e.nodeReason = reasonOf(r.node)
  for (const m of ['io_uring', 'nodeBackend']) {
    if (!r[m]) continue
    e[m] = r[m].outcome
    if (r[m].outcome === 'fail') e[`${m}Reason`] = reasonOf(r[m])
  }
  now.files[name] = e
}
const counted = Object.values(now.files).filter((e) => e.node === 'pass')
const tally = (m) => counted.filter((e) => e[m] === 'pass').length
console.log(
  `node-tests ${process.version} (vendored ${source.tag}): ${names.length} files, ${counted.length} pass on plain Node; under uring/register: io_uring ${tally('io_uring')}/${counted.length}, node backend ${tally('nodeBackend')}/${counted.length}`,
)
for (const [name, e] of Object.entries(now.files)) {
  for (const m of ['io_uring', 'nodeBackend']) if (e[m] === 'fail') console.log(`  FAIL ${m.padEnd(11)} ${name}: ${e[`${m}Reason`]}`)
}
if (a.only) process.exit(0)

const readmeFile = join(root, 'README.md')
const START = '<!-- node-suite:start (generated by scripts/node-tests.mjs --record) -->'
const END = '<!-- node-suite:end -->'

/** README's compatibility table, from the committed results of every Node line. */
function table() {
  const lines = []
  const rows = []
  const notes = []
  for (const v of [20, 24]) {
    let r
    try {
      r = JSON.parse(readFileSync(join(root, '__test__', 'node-suite', `results-v${v}.json`), 'utf8'))
    } catch {
      continue
    }
    const files = Object.entries(r.files)
    const counted = files.filter(([, e]) => e.node === 'pass')
    const n = (m) => counted.filter(([, e]) => e[m] === 'pass').length
    rows.push(`| ${r.tag} on Node ${r.node} | ${files.length} | ${counted.length} | ${n('io_uring')}/${counted.length} | ${n('nodeBackend')}/${counted.length} |`)
    for (const [name, e] of counted) {
      const on = ['io_uring', 'nodeBackend'].filter((m) => e[m] !== 'pass').map((m) => (m === 'io_uring' ? 'io_uring' : 'node backend'))
      for (const [m, why] of Object.entries(e.flaky ?? {}))
        notes.push(`| ${r.tag} | \`${name}\` | ${m === 'io_uring' ? 'io_uring' : 'node backend'}, sometimes (counted as ${e[m] === 'pass' ? 'passing' : 'failing'}: the recorded run) | ${why} |`)
      if (on.length > 0 && e.flaky === undefined) notes.push(`| ${r.tag} | \`${name}\` | ${on.join(', ')} | ${e.why ?? e.io_uringReason ?? e.nodeBackendReason ?? ''} |`)
    }
  }
  lines.push('| vendored tests | files | pass on plain Node | pass under `uring/register`, io_uring | node backend |', '| --- | --- | --- | --- | --- |', ...rows, '')
  if (notes.length > 0) lines.push('Files that still fail, and why:', '', '| tests | file | fails on | why |', '| --- | --- | --- | --- |', ...notes, '')
  return lines.join('\n')
}

function withTable(readme) {
  const i = readme.indexOf(START)
  const j = readme.indexOf(END)
  if (i < 0 || j < i) throw new Error(`README.md has no ${START} ... ${END} section`)
  return readme.slice(0, i + START.length) + '\n' + table() + readme.slice(j)
}

if (a.record) {
  // Keep the reviewed explanation of each remaining failure across re-recordings.
  let old = { files: {} }
  try {
    old = JSON.parse(readFileSync(resultsFile, 'utf8'))
  } catch {}
  for (const [name, e] of Object.entries(now.files)) {
    // A file that now passes everywhere loses its explanation.
    if (old.files[name]?.why && (e.io_uring === 'fail' || e.nodeBackend === 'fail')) e.why = old.files[name].why
    if (old.files[name]?.flaky) e.flaky = old.files[name].flaky
  }
  writeFileSync(resultsFile, JSON.stringify(now, null, 1) + '\n')
  writeFileSync(readmeFile, withTable(readFileSync(readmeFile, 'utf8')))
  console.log(`node-tests: wrote ${resultsFile} and README.md's table`)
  process.exit(0)
}

let committed
try {
  committed = JSON.parse(readFileSync(resultsFile, 'utf8'))
} catch {
  console.error(`node-tests: no ${resultsFile}; run with --record`)
  process.exit(1)
}
const diffs = []
for (const [name, e] of Object.entries(now.files)) {
  const c = committed.files[name]
  if (!c) {
    diffs.push(`${name}: not in the committed results`)
    continue
  }
  // A file that fails on plain Node here (another patch release, the machine) is not counted
  // either way; only the uring outcomes of files Node passes are compared.
  if (e.node !== 'pass') continue
  for (const m of ['io_uring', 'nodeBackend']) {
    // A file whose outcome depends on timing (reviewed; `flaky` says why) may go either way.
    if (c.flaky?.[m] !== undefined) continue
    if (c.node === 'pass' && e[m] !== c[m]) diffs.push(`${name} [${m}]: ${c[m]} before, ${e[m]} now${e[`${m}Reason`] ? ` — ${e[`${m}Reason`]}` : ''}`)
  }
}
const readme = readFileSync(readmeFile, 'utf8')
if (withTable(readme) !== readme) diffs.push("README.md's table is not the one the committed results give (run with --record)")
if (diffs.length > 0) {
  console.error(`node-tests: the outcome differs from ${resultsFile}:\n  ${diffs.join('\n  ')}`)
  process.exit(1)
}
console.log('node-tests: same outcome as the committed results')
