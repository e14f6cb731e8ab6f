#!/usr/bin/env node
// `npm run pack`: builds this machine's binary and writes installable tarballs of `uring` and of
// this platform's binary package (`uring-<platform>`, napi-rs convention) into artifacts/packages/.
// The main package carries no .node file; it names each platform package as an exact-version
// optional dependency, as `napi prepublish` does for a release. Generated folders (npm/,
// artifacts/) are not committed.
// `--prebuilt DIR` (CI's package job): builds no Rust; takes every uring.*.node in DIR (the build
// matrix's binaries) and the generated binding.js/binding.d.ts beside them, and packs one platform
// package per binary.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkgDir = join(root, 'packages', 'uring')
const out = join(root, 'artifacts', 'packages')
const stage = join(root, 'artifacts', 'stage')

const run = (cmd, args, cwd = root) => {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`)
}

const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
const isBinary = (f) => f.startsWith(`${pkg.napi.binaryName}.`) && f.endsWith('.node')
const prebuiltAt = process.argv.indexOf('--prebuilt')
if (prebuiltAt > 0) {
  const dir = process.argv[prebuiltAt + 1]
  for (const f of readdirSync(pkgDir).filter(isBinary)) rmSync(join(pkgDir, f))
  for (const f of readdirSync(dir)) if (isBinary(f) || f === 'binding.js' || f === 'binding.d.ts') cpSync(join(dir, f), join(pkgDir, f))
  run('npm', ['run', 'build:ts', '-w', 'uring'])
} else {
  run('npm', ['run', 'build'])
}
const nodes = readdirSync(pkgDir).filter(isBinary)
if (nodes.length === 0) throw new Error('no .node file was built')
const platformOf = (node) => node.slice(pkg.napi.binaryName.length + 1, -'.node'.length) // e.g. linux-x64-gnu

rmSync(stage, { recursive: true, force: true })
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

// The platform packages: created by napi's own command, then given their binaries.
rmSync(join(pkgDir, 'npm'), { recursive: true, force: true })
run('npx', ['napi', 'create-npm-dirs', '--npm-dir', 'npm'], pkgDir)
mkdirSync(stage, { recursive: true })
cpSync(join(pkgDir, 'npm'), join(stage, 'npm'), { recursive: true })
rmSync(join(pkgDir, 'npm'), { recursive: true, force: true })
const platformDirs = nodes.map((node) => {
  const dir = join(stage, 'npm', platformOf(node))
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`napi create-npm-dirs made no ${platformOf(node)} package (napi.targets)`)
  cpSync(join(pkgDir, node), join(dir, node))
  if (existsSync(join(root, 'LICENSE'))) cpSync(join(root, 'LICENSE'), join(dir, 'LICENSE'))
  return dir
})

// The main package: dist, the loader and its types, no binary; the platform package optional.
const main = join(stage, 'uring')
mkdirSync(main, { recursive: true })
for (const f of ['dist', 'binding.js', 'binding.d.ts']) cpSync(join(pkgDir, f), join(main, f), { recursive: true })
for (const f of ['README.md', 'LICENSE']) if (existsSync(join(root, f))) cpSync(join(root, f), join(main, f))
const mainPkg = { ...pkg, optionalDependencies: Object.fromEntries(nodes.map((n) => [`${pkg.name}-${platformOf(n)}`, pkg.version])) }
delete mainPkg.scripts
writeFileSync(join(main, 'package.json'), `${JSON.stringify(mainPkg, null, 2)}\n`)

for (const dir of [main, ...platformDirs]) execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] })
rmSync(stage, { recursive: true, force: true })
console.log(`pack: ${readdirSync(out).join(', ')} in ${out}`)
