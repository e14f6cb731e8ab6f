// Benchmark: a minimal keep-alive HTTP/1.1 hello-world responder (examples/http-hello.mjs) on
// uring/net against the same responder on node:net, against node:http, and against Bun.serve
// (when Bun is in .runtimes/bun), measured with wrk in the same run; then echo throughput with
// 64-byte and 64 KiB messages at 1, 100 and 1000 connections (uring/net vs node:net).
// Each server runs in its own process; wrk and the load generator share the machine with it.
// Prints the uring responder against the node:net responder.
// --base DIR adds the responder of another checkout (a git worktree of an earlier commit), so a
// change is measured against it in the same run.
// Usage: node benchmarks/http.mjs [--seconds 4] [--repeat 3] [--no-echo] [--base DIR]
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bunBinary, emit } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    repeat: { type: 'string', default: '3' },
    'no-echo': { type: 'boolean', default: false },
    base: { type: 'string' },
  },
})
const SECONDS = Number(args.seconds)
const REPEAT = Number(args.repeat)

function haveWrk() {
  if (spawnSync('wrk', ['--version']).error === undefined) return true
  if (process.getuid?.() === 0) spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'ignore' })
  return spawnSync('wrk', ['--version']).error === undefined
}

const bunBin = bunBinary(root)
const example = path.join(root, 'examples', 'http-hello.mjs')
let nextPort = 18400 + (process.pid % 1000)
const servers = [
  { name: 'uring/net responder', cmd: process.execPath, args: (p) => [example, String(p)] },
  ...(args.base ? [{ name: `uring/net responder (${args.base})`, cmd: process.execPath, args: (p) => [path.join(args.base, 'examples', 'http-hello.mjs'), String(p)] }] : []),
  { name: 'node:net responder', cmd: process.execPath, args: (p) => [example, String(p), '--node'] },
  { name: 'uring/net responder, awaited writes', awaited: true, cmd: process.execPath, args: (p) => [example, String(p), '--await'] },
  ...(args.base
    ? [{ name: `uring/net responder, awaited writes (${args.base})`, awaited: true, cmd: process.execPath, args: (p) => [path.join(args.base, 'examples', 'http-hello.mjs'), String(p), '--await'] }]
    : []),
  { name: 'node:net responder, awaited writes', awaited: true, cmd: process.execPath, args: (p) => [example, String(p), '--node', '--await'] },
  { name: 'uring/net responder, 2 worker threads (reusePort)', workers: true, cmd: process.execPath, args: (p) => [example, String(p), '--workers', '2'] },
  { name: 'node:net responder, node:cluster of 2', workers: true, cmd: process.execPath, args: (p) => [example, String(p), '--node', '--workers', '2'] },
  { name: 'node:http', cmd: process.execPath, args: (p) => [path.join(here, 'http-node-http.mjs'), String(p)] },
  ...(bunBin ? [{ name: `Bun.serve ${execFileSync(bunBin, ['--version'], { encoding: 'utf8' }).trim()}`, cmd: bunBin, args: (p) => [path.join(here, 'http-bun.js'), String(p)] }] : []),
]

async function waitForPort(port) {
  const net = await import('node:net')
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net
        .connect(port, '127.0.0.1', () => {
          s.destroy()
          resolve(true)
        })
        .on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on ${port}`)
}

async function withServer(s, f) {
  const port = nextPort++
  const child = spawn(s.cmd, s.args(port), { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    await waitForPort(port)
    return await f(port)
  } finally {
    child.kill()
    await new Promise((r) => child.once('exit', r))
  }
}

function wrk(port) {
  const out = execFileSync('wrk', ['-t1', '-c100', `-d${SECONDS}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out)
  if (!m) throw new Error(out)
  if (/Non-2xx|Socket errors/.test(out)) process.stderr.write(out)
  return Number(m[1])
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0))

console.log(`HTTP/1.1 hello world, keep-alive, wrk -t1 -c100 -d${SECONDS}s, median of ${REPEAT} (rounds alternate the servers)`)
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()}, Node ${process.version}`)
if (!haveWrk()) {
  console.log('wrk is not installed (Debian package `wrk`): skipped')
} else {
  const runs = new Map(servers.map((s) => [s.name, []]))
  for (let r = 0; r < REPEAT; r++) for (const s of servers) runs.get(s.name).push(await withServer(s, (port) => wrk(port)))
  console.log('')
  console.log('| server | req/s | runs |')
  console.log('|---|---|---|')
  for (const s of servers) console.log(`| ${s.name} | ${fmt(median(runs.get(s.name)))} | ${runs.get(s.name).map(fmt).join(', ')} |`)
  const entries = (kind) =>
    servers
      .filter((s) => (s.awaited ? 'awaited' : s.workers ? 'workers' : 'plain') === kind)
      .map((s) => {
        const xs = runs.get(s.name)
        return { contender: s.name, value: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length }
      })
  emit('HTTP/1.1 hello world, keep-alive, wrk -c100', 'requests/s', 'uring/net responder', entries('plain'))
  emit('HTTP/1.1 hello world, each write awaited, wrk -c100', 'requests/s', 'uring/net responder, awaited writes', entries('awaited'))
  emit('HTTP/1.1 hello world, 2 workers on one port, wrk -c100', 'requests/s', 'uring/net responder, 2 worker threads (reusePort)', entries('workers'))
  const ratio = median(runs.get('uring/net responder')) / median(runs.get('node:net responder'))
  const awaitedRatio = median(runs.get('uring/net responder, awaited writes')) / median(runs.get('node:net responder, awaited writes'))
  console.log('')
  const workersRatio = median(runs.get('uring/net responder, 2 worker threads (reusePort)')) / median(runs.get('node:net responder, node:cluster of 2'))
  console.log(`uring/net responder ÷ node:net responder: ${ratio.toFixed(2)}x; with each write awaited: ${awaitedRatio.toFixed(2)}x; 2 workers: ${workersRatio.toFixed(2)}x`)
  if (args.base) console.log(`      ${args.base}'s responder vs node:net responder: ${(median(runs.get(`uring/net responder (${args.base})`)) / median(runs.get('node:net responder'))).toFixed(2)}x`)
}

if (!args['no-echo']) {
  // Echo throughput: the load generator (benchmarks/echo-load.mjs, plain node:net) drives an echo
  // server on uring/net, then one on node:net.
  const echoServers = [
    { name: 'uring/net echo', cmd: process.execPath, args: (p) => [path.join(here, 'echo-server.mjs'), String(p)] },
    { name: 'node:net echo', cmd: process.execPath, args: (p) => [path.join(here, 'echo-server.mjs'), String(p), '--node'] },
  ]
  const cells = []
  for (const size of [64, 65536]) for (const conns of [1, 100, 1000]) cells.push({ size, conns })
  console.log('')
  console.log(`Echo: messages echoed per second (MiB/s), ${SECONDS} s per cell, one load process (node:net clients, each with one message in flight)`)
  console.log('')
  console.log(`| message | connections | ${echoServers.map((s) => s.name).join(' | ')} | ratio |`)
  console.log(`|---|---|${echoServers.map(() => '---').join('|')}|---|`)
  for (const { size, conns } of cells) {
    const rates = []
    for (const s of echoServers) {
      rates.push(
        await withServer(s, (port) => JSON.parse(execFileSync(process.execPath, [path.join(here, 'echo-load.mjs'), String(port), String(size), String(conns), String(SECONDS)], { encoding: 'utf8' }))),
      )
    }
    const cellsText = rates.map((r) => `${fmt(r.messages)}/s (${(r.bytes / 2 ** 20).toFixed(0)} MiB/s)`)
    console.log(`| ${size} B | ${conns} | ${cellsText.join(' | ')} | ${(rates[0].messages / rates[1].messages).toFixed(2)}x |`)
  }
}
