// The published package's metadata, checked by the tools users' toolchains trust (issue #20):
// @arethetypeswrong/cli (every entry point's types resolve under node10, node16 from CJS and
// from ESM, and bundler, with no masquerading or missing types) and publint (package.json's
// fields and files as packed), both on the tarball `npm pack` makes of packages/uring; and
// typedoc builds the API reference (`npm run docs`, into artifacts/api).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'

const root = join(__dirname, '..')
const pkg = join(root, 'packages/uring')
const bin = (name: string): string => join(root, 'node_modules/.bin', name)

test('attw: no problem for any entry point (uring, uring/fs, uring/net, uring/register) under any resolution', (t) => {
  const r = spawnSync(bin('attw'), ['--pack', '.', '--format', 'json'], { cwd: pkg, encoding: 'utf8', timeout: 120000 })
  t.is(r.status, 0, `${r.stdout.slice(0, 4000)}\n${r.stderr}`)
  const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } }
  t.deepEqual(report.analysis.problems, [])
  t.deepEqual(Object.keys(report.analysis.entrypoints).sort(), ['.', './fs', './net', './package.json', './register'])
})

test('publint: no error, warning or suggestion', (t) => {
  const r = spawnSync(bin('publint'), ['--strict'], { cwd: pkg, encoding: 'utf8', timeout: 120000 })
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`)
  t.regex(r.stdout, /All good!/, r.stdout)
})

test('typedoc builds the API reference of uring, uring/fs and uring/net with no error', (t) => {
  const r = spawnSync(bin('typedoc'), ['--options', join(pkg, 'typedoc.json'), '--out', join(root, 'artifacts/api')], { cwd: root, encoding: 'utf8', timeout: 180000 })
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`)
  t.regex(r.stdout + r.stderr, /Found 0 errors/, r.stdout + r.stderr)
})

test("CHANGELOG.md has a section for the package's version, under an Unreleased one (RELEASING.md)", (t) => {
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version
  const headings = readFileSync(join(root, 'CHANGELOG.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('## '))
  t.is(headings[0], '## Unreleased')
  t.true(headings.includes(`## ${version}`), headings.join(', '))
})
