// `npm run bench`: runs every benchmark script (each with its peers in the same run), shows their
// output as it goes, then prints a summary table and writes latest.json and latest.svg (per
// scenario: each contender's median and min-max, the best uring variant against the best peer,
// losses marked apart from wins) into benchmarks/results/last/ (ignored by git).
// `--record` writes them into benchmarks/results/ instead, the committed figures (a full run only).
// `--quick`: shorter runs on smaller data, for a look, never for the record.
// Options for the CI matrix (bench.yml): `--only randread,http` runs only those scripts; `--out DIR`
// writes latest.json and latest.svg there instead; `--summary FILE` appends the table (Markdown)
// to FILE, e.g. $GITHUB_STEP_SUMMARY.
import { execFileSync, spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const quick = process.argv.includes('--quick')
const option = (name) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : undefined
}
const allSteps = [
  ['randread', quick ? ['--qd', '32', '--ms', '300', '--mib', '256'] : []],
  ['batchread', quick ? ['--ms', '1000', '--repeat', '1', '--mib', '256'] : []],
  ['files', quick ? ['--rounds', '3', '--files', '2000', '--write-mib', '32', '--wal-records', '256'] : []],
  ['http', quick ? ['--seconds', '1', '--repeat', '1', '--no-echo'] : []],
]
const only = option('--only')?.split(',')
const unknown = only?.filter((n) => !allSteps.some(([name]) => name === n)) ?? []
if (unknown.length > 0) throw new Error(`--only: no benchmark named ${unknown.join(', ')} (${allSteps.map(([n]) => n).join(', ')})`)
const steps = only ? allSteps.filter(([name]) => only.includes(name)) : allSteps

/** Runs one script, echoing its output (prefixed) and collecting its BENCH_JSON lines. */
function runScript(name, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, `${name}.mjs`), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    const found = []
    let rest = ''
    child.stdout.on('data', (d) => {
      rest += d
      let i
      while ((i = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, i)
        rest = rest.slice(i + 1)
        if (line.startsWith('BENCH_JSON ')) found.push(JSON.parse(line.slice('BENCH_JSON '.length)))
        else process.stdout.write(`  ${line}\n`)
      }
    })
    child.on('exit', (code) => (code === 0 ? resolve(found) : reject(new Error(`${name}.mjs exited ${code}`))))
  })
}

const scenarios = []
const t0 = Date.now()
for (const [i, [name, args]] of steps.entries()) {
  console.log(`[${i + 1}/${steps.length}] ${name}.mjs ${args.join(' ')} (${Math.round((Date.now() - t0) / 1000)} s so far)`)
  scenarios.push(...(await runScript(name, args)))
}

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(n < 10 ? 2 : 0))
const spread = (e) => (e.min !== undefined && e.runs > 1 ? ` [${fmt(e.min)}-${fmt(e.max)}]` : '')
/** The best uring variant and the best peer of a scenario (by median), and best uring ÷ best peer. */
function verdict(s) {
  const best = (xs) => xs.reduce((a, b) => (b.value > a.value ? b : a), xs[0])
  const u = best(s.entries.filter((e) => e.contender.startsWith('uring')))
  const p = best(s.entries.filter((e) => !e.contender.startsWith('uring')))
  return { u, p, ratio: u && p ? u.value / p.value : undefined }
}
const table = [
  `Summary (${quick ? 'quick run: not for the record' : 'full run'}, ${Math.round((Date.now() - t0) / 1000)} s, Node ${process.version}, backend ${process.env.URING_BACKEND ?? 'auto'}); median [min-max] of the runs`,
  '',
  '| scenario | best uring | best peer | uring ÷ peer | all contenders |',
  '|---|---|---|---|---|',
]
for (const s of scenarios) {
  const { u, p, ratio } = verdict(s)
  if (!u || !p) continue
  const mark = ratio >= 1 ? 'win' : 'LOSS'
  const all = s.entries.map((e) => `${e.contender} ${fmt(e.value)}${spread(e)}`).join('; ')
  table.push(`| ${s.scenario} (${s.unit}) | ${u.contender} ${fmt(u.value)}${spread(u)} | ${p.contender} ${fmt(p.value)}${spread(p)} | ${ratio.toFixed(2)}x ${mark} | ${all} |`)
}
console.log('')
console.log(table.join('\n'))
if (option('--summary')) appendFileSync(option('--summary'), `${table.join('\n')}\n\n`)

const machine = `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`
// Only `--record` (a full run) writes the committed figures; any other run writes beside them,
// into results/last/ or results/quick/ (ignored by git), so the tree stays clean.
const record = process.argv.includes('--record')
if (record && quick) throw new Error('--record takes a full run, not --quick')
const results = option('--out') ? path.resolve(option('--out')) : path.join(here, 'results', record ? '' : quick ? 'quick' : 'last')
mkdirSync(results, { recursive: true })
let commit
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: here, encoding: 'utf8' }).trim() !== '') commit += ' (with uncommitted changes)'
} catch {
  commit = undefined // not a git checkout
}
const report = { date: new Date().toISOString(), machine, commit, quick, scenarios }
writeFileSync(path.join(results, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(path.join(results, 'latest.svg'), chart(report))
console.log('')
console.log(`wrote ${path.relative(process.cwd(), path.join(results, 'latest.json'))} and latest.svg`)

/**
 * The chart: per scenario, a bar per contender (longest = fastest) with its min-max as a
 * whisker, the median, and in the heading the best uring variant ÷ the best peer, losses in red.
 */
function chart({ date, machine, quick, scenarios }) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const W = 960
  const labelW = 300
  const barMax = 380
  const rowH = 18
  let y = 56
  const parts = []
  for (const s of scenarios) {
    const { u, p, ratio } = verdict(s)
    const max = Math.max(...s.entries.map((e) => e.max ?? e.value))
    const head = ratio === undefined ? '' : `  best uring ÷ best peer: ${ratio.toFixed(2)}× ${ratio >= 1 ? 'win' : 'LOSS'} (${u.contender} vs ${p.contender})`
    parts.push(`<text x="10" y="${y}" class="h">${esc(s.scenario)} (${esc(s.unit)})</text>`)
    if (head) {
      y += 16
      parts.push(`<text x="10" y="${y}" class="${ratio >= 1 ? 'w' : 'x'}">${esc(head.trim())}</text>`)
    }
    y += 8
    for (const e of s.entries) {
      y += rowH
      const scale = (v) => Math.max(1, (v / max) * barMax)
      const w = scale(e.value)
      const mine = e.contender.startsWith('uring')
      parts.push(`<text x="10" y="${y}" class="l">${esc(e.contender)}</text>`)
      parts.push(`<rect x="${labelW}" y="${y - 12}" width="${w.toFixed(1)}" height="14" class="${mine ? 'u' : 'p'}"/>`)
      if (e.min !== undefined && e.runs > 1) parts.push(`<line x1="${(labelW + scale(e.min)).toFixed(1)}" x2="${(labelW + scale(e.max)).toFixed(1)}" y1="${y - 5}" y2="${y - 5}" class="r"/>`)
      const end = labelW + scale(e.max ?? e.value)
      parts.push(`<text x="${end + 6}" y="${y}" class="v">${esc(fmt(e.value))}${esc(spread(e))}</text>`)
    }
    y += 28
  }
  const H = y
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">
<style>.t{font-size:15px;font-weight:600}.s{font-size:11px;fill:#555}.h{font-size:13px;font-weight:600}.w{font-size:12px;fill:#2f7d4f}.x{font-size:12px;font-weight:600;fill:#c0392b}.l{font-size:12px}.v{font-size:11px;fill:#333}.u{fill:#2f7d4f}.p{fill:#9aa3ad}.r{stroke:#222;stroke-width:1.5}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">uring benchmarks${quick ? ' (quick run)' : ''}: higher is better; median, whisker min-max</text>
<text x="10" y="40" class="s">${esc(date.slice(0, 10))} · ${esc(machine)} · green: uring, grey: peers in the same run, each run a fresh process</text>
${parts.join('\n')}
</svg>
`
}
