// fallocate and fadvise, the ops added through the op tables (issue #17: a row in
// crates/uring-core/src/op.rs, a row in packages/uring/src/ops.ts). node:fs has neither, so the
// node backend rejects fallocate ENOTSUP (as fallocate(2) does on a file system without it) and
// checks fadvise's fd as the kernel would (EBADF, ESPIPE) without giving the advice. Argument
// errors are the same on both backends, from the one row.
import * as nodeFs from 'node:fs'
import { join } from 'node:path'
import { each, caught } from './helpers'

each('fallocate: mode 0 grows the file, KEEP_SIZE does not (io_uring); ENOTSUP on the node backend', async (t, { ring, backend, dir }) => {
  const f = join(dir, 'f')
  nodeFs.writeFileSync(f, 'abc')
  const fd = await ring.openat(f, 'r+')
  try {
    if (backend === 'node') {
      const e = await caught(() => ring.fallocate(fd, 0, 0, 4096))
      t.is(e.code, 'ENOTSUP')
      t.is(e.syscall, 'fallocate')
      t.is(nodeFs.statSync(f).size, 3)
      return
    }
    await ring.fallocate(fd, 0, 0, 8192)
    t.is(nodeFs.statSync(f).size, 8192)
    t.is(nodeFs.readFileSync(f).subarray(0, 3).toString(), 'abc', 'the bytes already there stay')
    await ring.fallocate(fd, 1, 8192, 8192)
    t.is(nodeFs.statSync(f).size, 8192)
    t.true(nodeFs.statSync(f).blocks * 512 >= 16384)
  } finally {
    await ring.closeFd(fd)
  }
})

each('fallocate and fadvise: argument errors name the argument, on both backends', async (t, { ring, dir }) => {
  const fd = await ring.openat(join(dir, 'g'), 'w')
  try {
    for (const [args, code, name] of [
      [[fd, 0, 0, 0], 'ERR_OUT_OF_RANGE', 'length'],
      [[fd, -1, 0, 1], 'ERR_OUT_OF_RANGE', 'mode'],
      [[fd, 0, -1, 1], 'ERR_OUT_OF_RANGE', 'offset'],
      [[fd, 0, 0, 1.5], 'ERR_OUT_OF_RANGE', 'length'],
      [[fd, 0, 0, '1'], 'ERR_INVALID_ARG_TYPE', 'length'],
      [[-1, 0, 0, 1], 'ERR_OUT_OF_RANGE', 'fd'],
    ] as const) {
      const e = await caught(() => (ring.fallocate as (...a: unknown[]) => Promise<void>)(...args))
      t.is(e?.code, code, `fallocate(${args.join(', ')})`)
      t.regex(e?.message ?? '', new RegExp(`"${name}"`), `fallocate(${args.join(', ')})`)
    }
    const bad = await caught(() => (ring.fadvise as (...a: unknown[]) => Promise<void>)(fd, 0, 0, 'bogus'))
    t.is(bad?.code, 'ERR_INVALID_ARG_VALUE')
    t.is((await caught(() => (ring.fadvise as (...a: unknown[]) => Promise<void>)(fd, 0, 0, 6)))?.code, 'ERR_INVALID_ARG_VALUE')
    t.is((await caught(() => ring.fadvise(fd, -1, 0, 'normal')))?.code, 'ERR_OUT_OF_RANGE')
    const batch = await caught(() => ring.batch([{ op: 'fallocate', fd, length: 0 }]))
    t.is(batch?.code, 'ERR_OUT_OF_RANGE')
    t.regex(batch?.message ?? '', /"ops\[0\]\.length"/)
  } finally {
    await ring.closeFd(fd)
  }
})

each('fadvise: advice on a file resolves; a bad fd is EBADF and a pipe ESPIPE, on both backends', async (t, { ring, dir }) => {
  const fd = await ring.openat(join(dir, 'h'), 'w+')
  await ring.write(fd, Buffer.alloc(8192, 1), 0)
  for (const advice of ['normal', 'sequential', 'random', 'willneed', 'dontneed', 'noreuse', 0, 5] as const) {
    await ring.fadvise(fd, 0, 0, advice)
  }
  await ring.closeFd(fd)
  const e = await caught(() => ring.fadvise(fd, 0, 0, 'normal'))
  t.is(e?.code, 'EBADF')
  t.is(e?.syscall, 'fadvise')
  const fifo = join(dir, 'fifo')
  const { execFileSync } = await import('node:child_process')
  execFileSync('mkfifo', [fifo])
  const pfd = nodeFs.openSync(fifo, nodeFs.constants.O_RDWR | nodeFs.constants.O_NONBLOCK)
  try {
    const p = await caught(() => ring.fadvise(pfd, 0, 0, 'normal'))
    t.is(p?.code, 'ESPIPE')
    t.is(p?.syscall, 'fadvise')
  } finally {
    nodeFs.closeSync(pfd)
  }
})
