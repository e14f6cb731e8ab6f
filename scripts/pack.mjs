#!/usr/bin/env node
// `npm run pack`: builds this machine's binary and writes installable tarballs of `uring` and of
// this platform's binary package (`uring-<platform>`, napi-rs convention) into artifacts/packages/.
// The main package carries no .node file; it names the platform package as an exact-version
// optional dependency, as `napi prepublish` does for a release. Generated folders (npm/,
// artifacts/) are not committed.
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

run('npm', ['run', 'build'])
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
const node = readdirSync(pkgDir).find((f) => f.startsWith(`${pkg.napi.binaryName}.`) && f.endsWith('.node'))
if (!node) throw new Error('no .node file was built')
const platform = node.slice(pkg.napi.binaryName.length + 1, -'.node'.length) // e.g. linux-x64-gnu
const platformName = `${pkg.name}-${platform}`

rmSync(stage, { recursive: true, force: true })
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

// The platform package: created by napi's own command, then given this build's binary.
rmSync(join(pkgDir, 'npm'), { recursive: true, force: true })
run('npx', ['napi', 'create-npm-dirs', '--npm-dir', 'npm'], pkgDir)
mkdirSync(stage, { recursive: true })
cpSync(join(pkgDir, 'npm'), join(stage, 'npm'), { recursive: true })
rmSync(join(pkgDir, 'npm'), { recursive: true, force: true })
const platformDir = join(stage, 'npm', platform)
if (!existsSync(join(platformDir, 'package.json'))) throw new Error(`napi create-npm-dirs made no ${platform} package`)
cpSync(join(pkgDir, node), join(platformDir, node))

// The main package: dist, the loader and its types, no binary; the platform package optional.
const main = join(stage, 'uring')
mkdirSync(main, { recursive: true })
for (const f of ['dist', 'binding.js', 'binding.d.ts']) cpSync(join(pkgDir, f), join(main, f), { recursive: true })
for (const f of ['README.md', 'LICENSE']) if (existsSync(join(root, f))) cpSync(join(root, f), join(main, f))
const mainPkg = { ...pkg, files: pkg.files.filter((f) => !f.endsWith('.node')), optionalDependencies: { [platformName]: pkg.version } }
delete mainPkg.scripts
writeFileSync(join(main, 'package.json'), `${JSON.stringify(mainPkg, null, 2)}\n`)

for (const dir of [main, platformDir]) execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] })
rmSync(stage, { recursive: true, force: true })
console.log(`pack: ${readdirSync(out).join(', ')} in ${out}`)
