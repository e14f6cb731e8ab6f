// The op tables (issue #17): the opcode names TypeScript knows (src/op-names.ts, generated from
// the Rust table in crates/uring-core/src/op.rs) agree with the Rust table and with what the
// binding's probe reports, and an io_uring ring runs every op of the low-level API and of batch
// and link on io_uring itself — none falls back to node:fs where the kernel has its opcode.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { release, tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Ring } from 'uring'

const pkg = join(__dirname, '../packages/uring')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { OP_NAMES } = require(join(pkg, 'dist/op-names.js')) as { OP_NAMES: readonly string[] }
const linux = process.platform === 'linux'
const [major, minor] = release().split('.').map(Number)
/** Bind and listen (6.11) are the newest opcodes the table uses. */
const hasEvery = major > 6 || (major === 6 && minor >= 11)

test('src/op-names.ts is what scripts/gen-op-names.mjs makes of the Rust op table', (t) => {
  const r = spawnSync(process.execPath, [join(pkg, 'scripts/gen-op-names.mjs'), '--check'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.true(OP_NAMES.includes('read') && OP_NAMES.includes('send_zc') && OP_NAMES.includes('async_cancel'))
})

test('every opcode the probe reports is one TypeScript names, and on this kernel every one it names is there', (t) => {
  if (!linux) return t.pass('io_uring is Linux only')
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NativeRing } = require(join(pkg, 'binding.js'))
  const native = new NativeRing({ entries: 8, submitter: false }, () => {}, new Int32Array(3 * 64))
  const supported = native.supportedOps as string[]
  native.destroy()
  for (const op of supported) t.true(OP_NAMES.includes(op), `${op} reported by the probe, unknown to TypeScript`)
  t.is(new Set(supported).size, supported.length, 'an opcode reported twice')
  if (hasEvery) t.deepEqual([...supported].sort(), [...OP_NAMES].sort())
  else t.pass(`Linux ${release()}: older than 6.11, some opcodes are absent`)
})

test('an io_uring ring runs each op of its API, batch and link without falling back to node:fs', async (t) => {
  if (!linux) return t.pass('io_uring is Linux only')
  if (!hasEvery) return t.pass(`Linux ${release()}: older than 6.11, some ops fall back by design`)
  const ring = new Ring({ backend: 'io_uring' })
  const dir = mkdtempSync(join(tmpdir(), 'uring-ops-'))
  try {
    const f = join(dir, 'f')
    const fd = await ring.openat(f, 'w+')
    t.is(await ring.write(fd, Buffer.from('hello'), 0), 5)
    t.is(await ring.writev(fd, [Buffer.from(' '), Buffer.from('world')], 5), 6)
    const a = Buffer.alloc(5)
    t.is(await ring.read(fd, a, 0), 5)
    const b = [Buffer.alloc(1), Buffer.alloc(5)]
    t.is(await ring.readv(fd, b, 5), 6)
    t.is(Buffer.concat([a, ...b]).toString(), 'hello world')
    t.is((await ring.fstat(fd)).size, 11)
    await ring.fsync(fd)
    await ring.fdatasync(fd)
    await ring.ftruncate(fd, 4)
    t.is((await ring.stat(f)).size, 4)
    await ring.closeFd(fd)
    await ring.mkdir(join(dir, 'd'))
    await ring.rename(join(dir, 'd'), join(dir, 'e'))
    t.true((await ring.lstat(join(dir, 'e'))).isDirectory())
    await ring.rmdir(join(dir, 'e'))
    await ring.nop()
    const batch = await ring.batch([
      { op: 'symlink', target: f, path: join(dir, 's') },
      { op: 'link', existingPath: f, newPath: join(dir, 'l') },
      { op: 'stat', path: f },
      { op: 'mkdir', path: join(dir, 'm') },
      { op: 'nop' },
    ])
    t.deepEqual(
      batch.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    )
    const chain = await ring.link([
      { op: 'unlink', path: join(dir, 's') },
      { op: 'unlink', path: join(dir, 'l') },
      { op: 'rmdir', path: join(dir, 'm') },
    ])
    t.deepEqual(
      chain.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    )
    // No opcode does access or chmod: the ring's executor runs them, and a link runs them one
    // after the other (a failure cancels the rest, as in a chain).
    await ring.access(f)
    await ring.chmod(f, 0o600)
    t.is((await ring.stat(f)).mode & 0o777, 0o600)
    const executed = ring.stats().executedOps
    const linked = await ring.link([
      { op: 'access', path: f },
      { op: 'chmod', path: f, mode: 0o640 },
      { op: 'access', path: join(dir, 'missing') },
      { op: 'chmod', path: f, mode: 0o600 },
    ])
    t.deepEqual(
      linked.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
    )
    t.is((linked[2] as PromiseRejectedResult).reason.code, 'ENOENT')
    t.is((linked[3] as PromiseRejectedResult).reason.code, 'ECANCELED')
    t.is((await ring.stat(f)).mode & 0o777, 0o640)
    t.true(ring.stats().executedOps >= executed + 3, JSON.stringify(ring.stats()))
    await ring.symlink(f, join(dir, 's2'))
    await ring.linkat(f, join(dir, 'l2'))
    t.true((await ring.lstat(join(dir, 's2'))).isSymbolicLink())
    t.is((await ring.stat(join(dir, 'l2'))).nlink, 2)
    await ring.unlink(join(dir, 's2'))
    await ring.unlink(join(dir, 'l2'))
    await ring.unlink(f)
    t.is(ring.stats().fallbackOps, 0)
  } finally {
    await ring.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('every opcode of the Rust table is started by a row of the TypeScript op table or by a named hand-written path, and every row names one', (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ROWS, HAND_OPCODES } = require(join(pkg, 'dist/ops.js')) as { ROWS: Record<string, { opcode: string; uring: unknown; node: unknown }>; HAND_OPCODES: Record<string, string> }
  const fromRows = new Set(Object.values(ROWS).map((r) => r.opcode))
  for (const [name, row] of Object.entries(ROWS)) {
    t.true(OP_NAMES.includes(row.opcode), `row ${name}: opcode ${row.opcode} is not in the Rust table`)
    t.is(typeof row.uring, 'function', name)
    t.is(typeof row.node, 'function', name)
  }
  for (const op of Object.keys(HAND_OPCODES)) t.true(OP_NAMES.includes(op), `hand-written opcode ${op} is not in the Rust table`)
  for (const op of OP_NAMES) t.true(fromRows.has(op) || op in HAND_OPCODES, `opcode ${op} of the Rust table is started nowhere in TypeScript`)
})

test('an io_uring ring runs fallocate and fadvise (Ring, batch, link, FileHandle.batch) without node:fs', async (t) => {
  if (!linux) return t.pass('io_uring is Linux only')
  const ring = new Ring({ backend: 'io_uring' })
  const dir = mkdtempSync(join(tmpdir(), 'uring-ops-'))
  try {
    const f = join(dir, 'f')
    const fd = await ring.openat(f, 'w+')
    await ring.fallocate(fd, 0, 0, 65536)
    t.is((await ring.fstat(fd)).size, 65536)
    await ring.fallocate(fd, 1, 65536, 65536) // FALLOC_FL_KEEP_SIZE: blocks, no size
    const st = await ring.fstat(fd)
    t.is(st.size, 65536)
    t.true(st.blocks * 512 >= 131072, `${st.blocks} blocks`)
    await ring.fadvise(fd, 0, 0, 'sequential')
    await ring.fadvise(fd, 4096, 4096, 4)
    const b = await ring.batch([
      { op: 'fallocate', fd, offset: 131072, length: 4096 },
      { op: 'fadvise', fd, advice: 'willneed' },
    ])
    t.deepEqual(
      b.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
    )
    const l = await ring.link([
      { op: 'fallocate', fd, length: 200000 },
      { op: 'fadvise', fd, advice: 'dontneed' },
      { op: 'fstat', fd },
    ])
    t.deepEqual(
      l.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    )
    t.is((l[2] as PromiseFulfilledResult<{ size: number }>).value.size, 200000)
    await ring.closeFd(fd)
    const fh = await ring.fs.open(f, 'r+')
    const hb = await fh.batch([{ op: 'fallocate', mode: 0, offset: 0, length: 300000 }, { op: 'fadvise', offset: 0, length: 0, advice: 'random' }, { op: 'fstat' }])
    t.deepEqual(
      hb.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    )
    // A batch's ops run concurrently: its fstat may see the file before or during the fallocate.
    t.is((await fh.stat()).size, 300000)
    await fh.close()
    t.is(ring.stats().fallbackOps, 0)
  } finally {
    await ring.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
