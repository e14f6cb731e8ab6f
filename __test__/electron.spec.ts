// What Electron needs (issue #5). Electron's binary cannot be downloaded here, so this file tests
// what can be tested without it; the workflow runs electron/main.cjs under Electron itself.
// What the built binary asks of its host, checked in the file itself:
// - no external ArrayBuffers or Buffers: Electron >= 21 refuses them (napi_no_external_buffers_allowed),
//   and a binary that never imports the two functions cannot call them;
// - no libuv symbol bound at load time: libuv is looked up with dlsym once a ring starts
//   (crates/uring-napi/src/uv.rs), so loading never depends on how the host exports libuv.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { dynamicSymbols } from './elf'

const pkg = join(__dirname, '../packages/uring')
const binary = readdirSync(pkg).find((f) => f.endsWith('.node'))
const linux = process.platform === 'linux' && binary !== undefined

;(linux ? test : test.skip)('the binary imports no external-buffer function and no libuv symbol', (t) => {
  const syms = dynamicSymbols(join(pkg, binary!))
  // The reader works: the binary needs napi from its host and exports its module registration.
  for (const needed of ['napi_get_typedarray_info', 'napi_get_uv_event_loop', 'dlsym']) t.true(syms.undefined.includes(needed), needed)
  t.true(syms.defined.includes('napi_register_module_v1'), syms.defined.join(' '))
  const nm = spawnSync('nm', ['-D', '--undefined-only', '--format=posix', join(pkg, binary!)], { encoding: 'utf8' })
  if (nm.status === 0) {
    const fromNm = nm.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0].replace(/@.*$/, '')).sort()
    t.deepEqual([...syms.undefined].sort(), fromNm, 'the ELF reader agrees with nm -D')
  }
  t.deepEqual(syms.undefined.filter((s) => /^napi_create_external_(arraybuffer|buffer)$/.test(s)), [])
  t.deepEqual(syms.undefined.filter((s) => s.startsWith('uv_')), [])
})

;(linux ? test : test.skip)('loads with every symbol bound at once (RTLD_NOW), as a strict host would', (t) => {
  // A child process, so this load does not share the test's module cache.
  const script = `
    const os = require('node:os')
    const m = { exports: {} }
    process.dlopen(m, ${JSON.stringify(join(pkg, binary!))}, os.constants.dlopen.RTLD_NOW)
    // A ring starts its libuv handles: the uv_* functions are looked up now, with dlsym.
    const ring = new m.exports.NativeRing(8, null, null, false, null, () => {}, new Int32Array(3 * 64))
    console.log(ring.mode)
    ring.destroy()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout.trim(), /^(defer_taskrun|inline)$/)
})

// The Electron smoke test's body, under Node: the same file the workflow runs under Electron.
const smoke = join(__dirname, 'electron', 'main.cjs')
for (const [label, env, expected] of [
  ['default backend', {}, process.platform === 'linux' ? 'io_uring' : 'node'],
  ['node backend (a host without io_uring)', { URING_BACKEND: 'node', URING_EXPECT: 'fallback' }, 'node'],
] as const) {
  test(`electron/main.cjs passes under Node: ${label}`, (t) => {
    const r = spawnSync(process.execPath, [smoke], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000 })
    t.is(r.status, 0, r.stderr)
    t.regex(r.stdout, new RegExp(`electron-smoke: ok \\(backend=${expected} worker=${expected} node `))
  })
}
