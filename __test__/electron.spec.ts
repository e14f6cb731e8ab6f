// What Electron needs (issue #5). Electron's binary cannot be downloaded here, so this file tests
// what can be tested without it; the workflow runs electron/main.cjs under Electron itself.
// What the built binary asks of its host, read from the ELF file by scripts/check-binary.mjs (the
// CI build job runs the same checks on every target's binary): no external-buffer function and
// no libuv symbol imported, machine and libc as its name says.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
// @ts-expect-error a plain ESM script without type declarations
import { checkBinary, readElf } from '../scripts/check-binary.mjs'

const pkg = join(__dirname, '../packages/uring')
const binary = readdirSync(pkg).find((f) => f.endsWith('.node'))
const linux = process.platform === 'linux' && binary !== undefined

;(linux ? test : test.skip)('the binary imports no external-buffer function and no libuv symbol', (t) => {
  const path = join(pkg, binary!)
  const elf = readElf(path)
  // The reader works: the binary needs napi and dlsym from its host and registers a napi module.
  for (const needed of ['napi_get_typedarray_info', 'napi_get_uv_event_loop', 'dlsym']) t.true(elf.undefined.includes(needed), needed)
  t.true(elf.defined.includes('napi_register_module_v1'))
  const nm = spawnSync('nm', ['-D', '--undefined-only', '--format=posix', path], { encoding: 'utf8' })
  if (nm.status === 0) {
    const fromNm = nm.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0].replace(/@.*$/, ''))
      .sort()
    t.deepEqual([...elf.undefined].sort(), fromNm, 'the ELF reader agrees with nm -D')
  }
  t.deepEqual(
    elf.undefined.filter((s: string) => /^napi_create_external_(arraybuffer|buffer)$/.test(s) || s.startsWith('uv_')),
    [],
  )
  t.deepEqual(checkBinary(path), [])
})

;(linux ? test : test.skip)('the binary check fails a binary whose name says another platform', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uring-elf-'))
  try {
    const other = process.arch === 'x64' ? 'arm64' : 'x64'
    const otherLibc = binary!.includes('-musl') ? 'gnu' : 'musl'
    const renamed = join(dir, `uring.linux-${other}-${otherLibc}.node`)
    copyFileSync(join(pkg, binary!), renamed)
    const problems: string[] = checkBinary(renamed)
    t.is(problems.length, 2, problems.join('; '))
    t.regex(problems[0], new RegExp(`built for ${process.arch}, named ${other}`))
    t.regex(problems[1], new RegExp(`not a ${otherLibc} binary`))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

;(linux ? test : test.skip)('loads with every symbol bound at once (RTLD_NOW), as a strict host would', (t) => {
  // A child process, so this load does not share the test's module cache.
  const script = `
    const os = require('node:os')
    const m = { exports: {} }
    process.dlopen(m, ${JSON.stringify(join(pkg, binary!))}, os.constants.dlopen.RTLD_NOW)
    // A ring starts its libuv handles: the uv_* functions are looked up now, with dlsym.
    const ring = new m.exports.NativeRing({ entries: 8, submitter: false }, () => {}, new Int32Array(3 * 64))
    console.log(ring.mode)
    ring.destroy()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout.trim(), /^(defer_taskrun|inline)$/)
})

// The Electron smoke tests' bodies, under Node: the files the workflow runs under Electron (main.cjs
// in the main process, utility.cjs in a utility process, both running smoke.cjs).
const dir = join(__dirname, 'electron')
for (const [label, env, expected] of [
  ['default backend', {}, process.platform === 'linux' ? 'io_uring' : 'node'],
  ['node backend (a host without io_uring)', { URING_BACKEND: 'node', URING_EXPECT: 'fallback' }, 'node'],
] as const) {
  const run = (file: string) => spawnSync(process.execPath, [join(dir, file)], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000 })
  const what = `backend=${expected} worker=${expected} node ${process.version}`
  test(`electron/main.cjs passes under Node: ${label}`, (t) => {
    const r = run('main.cjs')
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), `electron-smoke: ok (${what})`)
  })
  test(`electron/utility.cjs reports success under Node: ${label}`, (t) => {
    const r = run('utility.cjs')
    t.is(r.status, 0, r.stderr)
    t.deepEqual(JSON.parse(r.stdout), { ok: true, what })
  })
}
