// ring.batch / ring.link and FileHandle.batch / FileHandle.link: one call, one promise, a result
// per op, on both backends with the same bodies (and, for a few, an SQPOLL ring).
import { spawnSync } from 'node:child_process'
import * as nodeFs from 'node:fs'
import * as nfs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { silentFifo } from './fixtures/fifo.cjs'
import { caught, each, errorShape, pattern } from './helpers'

/** The reason of a rejected result, or a failure naming what came instead. */
function reasonOf(r: PromiseSettledResult<unknown>): any {
  if (r.status !== 'rejected') throw new Error(`expected a rejected result, got ${JSON.stringify(r)}`)
  return r.reason
}

/** The inode an fd names, or undefined once it is closed. */
function fstatIno(fd: number): number | undefined {
  try {
    return nodeFs.fstatSync(fd).ino
  } catch {
    return undefined
  }
}

function valueOf(r: PromiseSettledResult<unknown>): any {
  if (r.status !== 'fulfilled') throw r.reason
  return r.value
}

for (const sqpoll of [false, true]) {
  each(
    `batch: mixed ops, a result per op in order, failures reported with Node's error shape${sqpoll ? ' (SQPOLL)' : ''}`,
    async (t, { ring, dir }) => {
      const f = join(dir, 'data')
      const missing = join(dir, 'missing')
      await nfs.writeFile(f, pattern(0, 8192))
      const fd = nodeFs.openSync(f, 'r+')
      try {
        const a = Buffer.alloc(100)
        const b = Buffer.alloc(4096)
        const w = pattern(50000, 300)
        const results = await ring.batch([
          { op: 'read', fd, buffer: a, position: 7 },
          { op: 'read', fd, buffer: b, offset: 96, length: 4000, position: 4096 },
          { op: 'write', fd, buffer: w, offset: 100, length: 200, position: 9000 },
          { op: 'stat', path: missing },
          { op: 'open', path: missing },
          { op: 'fstat', fd },
          { op: 'nop' },
          { op: 'mkdir', path: join(dir, 'sub') },
          { op: 'unlink', path: missing },
        ])
        t.is(results.length, 9)
        t.is(valueOf(results[0]), 100)
        t.true(a.equals(pattern(7, 100)))
        t.is(valueOf(results[1]), 4000)
        t.true(b.subarray(96).equals(pattern(4096, 4000)))
        t.true(b.subarray(0, 96).equals(Buffer.alloc(96)), 'bytes before offset untouched')
        t.is(valueOf(results[2]), 200)
        t.true(nodeFs.readFileSync(f).subarray(9000).equals(w.subarray(100)))
        // The errors are node:fs's own, field for field.
        t.deepEqual(errorShape(reasonOf(results[3])), errorShape(await caught(() => nfs.stat(missing))))
        t.deepEqual(errorShape(reasonOf(results[4])), errorShape(await caught(() => nfs.open(missing))))
        t.deepEqual(errorShape(reasonOf(results[8])), errorShape(await caught(() => nfs.unlink(missing))))
        const st = valueOf(results[5])
        t.true(st.isFile())
        t.is(st.ino, nodeFs.fstatSync(fd).ino)
        t.is(valueOf(results[6]), 0)
        t.is(valueOf(results[7]), undefined)
        t.true(nodeFs.statSync(join(dir, 'sub')).isDirectory())
        t.is(ring.stats().inFlight, 0)
      } finally {
        nodeFs.closeSync(fd)
      }
    },
    { sqpoll },
  )
}

each(
  'batch: many more reads than the SQ holds, every buffer filled from its own position',
  async (t, { ring, dir }) => {
    const f = join(dir, 'big')
    const size = 1 << 20
    await nfs.writeFile(f, pattern(0, size))
    const fh = await ring.fs.open(f)
    try {
      const positions = Array.from({ length: 500 }, (_, i) => ((i * 7919) % (size / 512)) * 512)
      const bufs = positions.map(() => Buffer.alloc(512))
      const results = await fh.batch(positions.map((position, i) => ({ op: 'read' as const, buffer: bufs[i], position })))
      t.is(results.length, 500)
      for (let i = 0; i < 500; i++) {
        if (valueOf(results[i]) !== 512 || !bufs[i].equals(pattern(positions[i], 512))) return t.fail(`read ${i} at ${positions[i]}`)
      }
      t.pass()
    } finally {
      await fh.close()
    }
  },
  { entries: 16 },
)

each('batch: an empty batch resolves to []', async (t, { ring }) => {
  t.deepEqual(await ring.batch([]), [])
  t.deepEqual(await ring.link([]), [])
})

each('batch and link: argument errors name the op and start nothing', async (t, { ring, dir }) => {
  const f = join(dir, 'keep')
  await nfs.writeFile(f, 'unchanged')
  const fd = nodeFs.openSync(f, 'r+')
  try {
    const before = ring.stats().submitted
    const write = { op: 'write', fd, buffer: Buffer.from('CHANGED!!'), position: 0 } as const
    const cases: Array<[unknown, string, RegExp]> = [
      [undefined, 'ERR_INVALID_ARG_TYPE', /"ops" argument must be an instance of Array/],
      [[write, 5], 'ERR_INVALID_ARG_TYPE', /"ops\[1\]" argument must be of type object/],
      [[write, { op: 'frobnicate' }], 'ERR_INVALID_ARG_VALUE', /ops\[1\]\.op/],
      [[write, { op: 'read', fd, buffer: 'text' }], 'ERR_INVALID_ARG_TYPE', /"ops\[1\]\.buffer"/],
      [[write, { op: 'read', fd: -1, buffer: Buffer.alloc(1) }], 'ERR_OUT_OF_RANGE', /"ops\[1\]\.fd"/],
      [[write, { op: 'read', fd: '3', buffer: Buffer.alloc(1) }], 'ERR_INVALID_ARG_TYPE', /"ops\[1\]\.fd"/],
      [[write, { op: 'read', fd, buffer: Buffer.alloc(4), length: 5 }], 'ERR_OUT_OF_RANGE', /"ops\[1\]\.length"/],
      [[write, { op: 'read', fd, buffer: Buffer.alloc(4), offset: 5 }], 'ERR_OUT_OF_RANGE', /"ops\[1\]\.offset"/],
      [[write, { op: 'read', fd, buffer: Buffer.alloc(4), position: 1.5 }], 'ERR_OUT_OF_RANGE', /"ops\[1\]\.position"/],
      [[write, { op: 'open', path: 'a\0b' }], 'ERR_INVALID_ARG_VALUE', /ops\[1\]\.path/],
      [[write, { op: 'open', path: f, flags: 'bogus' }], 'ERR_INVALID_ARG_VALUE', /bogus/],
      [[write, { op: 'writev', fd, buffers: [1] }], 'ERR_INVALID_ARG_TYPE', /"ops\[1\]\.buffers"/],
      [[write, { op: 'ftruncate', fd, length: -1 }], 'ERR_OUT_OF_RANGE', /"ops\[1\]\.length"/],
    ]
    for (const [ops, code, message] of cases) {
      for (const run of [() => ring.batch(ops as any), () => ring.link(ops as any)]) {
        const e = await caught(run)
        t.is(e?.code, code, `${JSON.stringify(ops)}: ${e?.message}`)
        t.regex(String(e?.message), message)
      }
    }
    t.is((await caught(() => ring.batch([write], { signal: 'no' as any })))?.code, 'ERR_INVALID_ARG_TYPE')
    t.is((await caught(() => ring.batch([write], 5 as any)))?.code, 'ERR_INVALID_ARG_TYPE')
    const ac = new AbortController()
    ac.abort()
    t.is((await caught(() => ring.batch([write], { signal: ac.signal })))?.name, 'AbortError')
    t.is((await caught(() => ring.link([write], { signal: ac.signal })))?.name, 'AbortError')
    t.is(nodeFs.readFileSync(f, 'utf8'), 'unchanged')
    t.is(ring.stats().submitted, before)
  } finally {
    nodeFs.closeSync(fd)
  }
})

for (const sqpoll of [false, true]) {
  each(
    `link: write → fdatasync → read runs in order${sqpoll ? ' (SQPOLL)' : ''}`,
    async (t, { ring, dir }) => {
      const f = join(dir, 'wal')
      const fh = await ring.fs.open(f, 'w+')
      try {
        const back = Buffer.alloc(12)
        const results = await fh.link([{ op: 'write', buffer: Buffer.from('record-0001\n'), position: 0 }, { op: 'fdatasync' }, { op: 'read', buffer: back, position: 0 }, { op: 'fstat' }])
        t.deepEqual(results.slice(0, 3).map(valueOf), [12, undefined, 12])
        t.is(back.toString(), 'record-0001\n')
        t.is(valueOf(results[3]).size, 12)
      } finally {
        await fh.close()
      }
    },
    { sqpoll },
  )
}

each(
  'link: an op the kernel refuses as it prepares the chain (a path past PATH_MAX, an empty path) fails alone; the ops before it run, those after are cancelled, as on the node backend',
  async (t, { ring, dir }) => {
    const long = join(dir, 'd/'.repeat(2100) + 'x')
    for (const bad of [
      { op: 'rename', oldPath: join(dir, 'a'), newPath: long, code: 'ENAMETOOLONG' },
      { op: 'unlink', path: '', code: 'ENOENT' },
    ] as const) {
      nodeFs.writeFileSync(join(dir, 'a'), 'abc')
      const fd = nodeFs.openSync(join(dir, 'a'), 'r')
      const ino = nodeFs.fstatSync(fd).ino
      const { code, ...op } = bad
      const results = await ring.link([{ op: 'mkdir', path: join(dir, 'made') }, { op: 'close', fd }, op as any, { op: 'mkdir', path: join(dir, 'after') }])
      t.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
        results.map((r) => (r.status === 'rejected' ? (r.reason as any).code : 'ok')).join(),
      )
      t.is(reasonOf(results[2]).code, code)
      t.is(reasonOf(results[3]).code, 'ECANCELED')
      t.true(nodeFs.existsSync(join(dir, 'made')))
      t.false(nodeFs.existsSync(join(dir, 'after')))
      // The close ran: the fd is closed (or, closed, already reused by another test of this file).
      t.not(fstatIno(fd), ino, 'the close ran')
      nodeFs.rmdirSync(join(dir, 'made'))
    }
    // An op before it that fails: the refused op is cancelled, as after any failure.
    const results = await ring.link([
      { op: 'mkdir', path: join(dir, 'missing', 'x') },
      { op: 'unlink', path: '' },
    ])
    t.deepEqual(
      results.map((r) => reasonOf(r).code),
      ['ENOENT', 'ECANCELED'],
    )
  },
)

each('readv of more than IOV_MAX (1024) buffers reads into the first 1024, as libuv; writev writes them all: Ring, batch and FileHandle alike', async (t, { ring, dir }) => {
  const f = join(dir, 'v')
  nodeFs.writeFileSync(f, pattern(0, 5000))
  const bufs = () => Array.from({ length: 1030 }, () => Buffer.alloc(2))
  const fh = await ring.fs.open(f, 'r+')
  try {
    const r = bufs()
    t.is(await ring.readv(fh.fd, r, 0), 2048)
    t.deepEqual(Buffer.concat(r.slice(0, 1024)), pattern(0, 2048))
    t.is(r[1024][0], 0, 'nothing past the first 1024 buffers')
    t.deepEqual((await ring.batch([{ op: 'readv', fd: fh.fd, buffers: bufs(), position: 0 }])).map(valueOf), [2048])
    t.is((await fh.readv(bufs(), 0)).bytesRead, 2048)
    const w = Array.from({ length: 1030 }, (_, i) => Buffer.from([i & 0xff, 0xee]))
    t.is(await ring.writev(fh.fd, w, 0), 2060)
    t.is((await fh.writev(w, 0)).bytesWritten, 2060)
    t.deepEqual(nodeFs.readFileSync(f).subarray(0, 2060), Buffer.concat(w))
  } finally {
    await fh.close()
  }
})

each('link and batch: writes at the file position (null), then fdatasync: all written, in order', async (t, { ring, dir }) => {
  // A WAL's group: 16 appends at the position and an fdatasync, as one link. (Writes at the
  // position run one at a time per fd outside chains; in a chain they must still join it.)
  const fh = await ring.fs.open(join(dir, 'wal'), 'w')
  try {
    for (let round = 0; round < 3; round++) {
      const group: any[] = Array.from({ length: 16 }, (_, i) => ({ op: 'write', buffer: Buffer.alloc(4096, round * 16 + i), position: null }))
      group.push({ op: 'fdatasync' })
      const results = round === 1 ? await fh.batch(group) : await fh.link(group)
      t.deepEqual(
        results.map((r: any) => r.status),
        new Array(17).fill('fulfilled'),
        JSON.stringify(results.filter((r: any) => r.status !== 'fulfilled')),
      )
    }
  } finally {
    await fh.close()
  }
  const got = nodeFs.readFileSync(join(dir, 'wal'))
  t.is(got.length, 48 * 4096)
  // The links' records are in order; a batch's run in any order (node:fs: on the thread pool),
  // but each record whole and none lost.
  const record = (i: number) => got.subarray(i * 4096, (i + 1) * 4096)
  for (const i of [...Array(16).keys(), ...Array.from({ length: 16 }, (_, k) => 32 + k)])
    t.true(
      record(i).every((b) => b === i),
      `record ${i} in place`,
    )
  const batched = Array.from({ length: 16 }, (_, k) => record(16 + k)[0]).sort((a, b) => a - b)
  t.deepEqual(
    batched,
    Array.from({ length: 16 }, (_, k) => 16 + k),
  )
  for (let k = 16; k < 32; k++)
    t.true(
      record(k).every((b) => b === record(k)[0]),
      `record ${k} whole`,
    )
})

each('link: a failed op cancels the ops after it (ECANCELED), in the kernel on io_uring', async (t, { backend, ring, dir }) => {
  const missing = join(dir, 'missing')
  const made = join(dir, 'made')
  const fd = nodeFs.openSync(join(dir, 'x'), 'w+')
  try {
    const before = ring.stats().submitted
    const results = await ring.link([
      { op: 'open', path: missing },
      { op: 'write', fd, buffer: Buffer.from('no') },
      { op: 'mkdir', path: made },
    ])
    t.deepEqual(errorShape(reasonOf(results[0])), errorShape(await caught(() => nfs.open(missing))))
    const e1 = reasonOf(results[1])
    t.deepEqual([e1.code, e1.errno, e1.syscall], ['ECANCELED', -125, 'write'])
    const e2 = reasonOf(results[2])
    t.deepEqual([e2.code, e2.syscall, e2.path], ['ECANCELED', 'mkdir', made])
    t.false(nodeFs.existsSync(made), 'a cancelled op had no effect')
    t.is(nodeFs.fstatSync(fd).size, 0)
    // io_uring hands the whole chain to the kernel, which cancels its tail; node:fs never starts it.
    t.is(ring.stats().submitted - before, backend === 'io_uring' ? 3 : 1)
  } finally {
    nodeFs.closeSync(fd)
  }
})

each('link: ops the kernel does not cancel a chain for (unlink, fsync, stat, ...) still stop it when they fail', async (t, { ring, dir }) => {
  const missing = join(dir, 'missing')
  const made = join(dir, 'made')
  const r1 = await ring.link([
    { op: 'unlink', path: missing },
    { op: 'mkdir', path: made },
  ])
  t.is(reasonOf(r1[0]).code, 'ENOENT')
  t.is(reasonOf(r1[1]).code, 'ECANCELED')
  t.false(nodeFs.existsSync(made))
  const r2 = await ring.link([
    { op: 'stat', path: missing },
    { op: 'mkdir', path: made },
  ])
  t.is(reasonOf(r2[0]).code, 'ENOENT')
  t.is(reasonOf(r2[1]).code, 'ECANCELED')
  t.false(nodeFs.existsSync(made))
  // write → fsync → write on a pipe: the fsync fails (EINVAL), so the second write never runs.
  const { r, w } = silentFifo()
  try {
    const r3 = await ring.link([
      { op: 'write', fd: w, buffer: Buffer.from('a') },
      { op: 'fsync', fd: w },
      { op: 'write', fd: w, buffer: Buffer.from('b') },
    ])
    t.is(valueOf(r3[0]), 1)
    t.deepEqual(errorShape(reasonOf(r3[1])), errorShape(await caught(() => new Promise<void>((res, rej) => nodeFs.fsync(w, (e) => (e ? rej(e) : res()))))))
    t.is(reasonOf(r3[2]).code, 'ECANCELED')
    const got = Buffer.alloc(8)
    t.is(nodeFs.readSync(r, got, 0, 8, null), 1)
    t.is(got.toString('latin1', 0, 1), 'a')
  } finally {
    nodeFs.closeSync(r)
    nodeFs.closeSync(w)
  }
  // And when they succeed, the chain goes on.
  const r4 = await ring.link([{ op: 'mkdir', path: made }, { op: 'stat', path: made }, { op: 'rmdir', path: made }, { op: 'nop' }])
  t.true(r4.every((x) => x.status === 'fulfilled'))
  t.true(valueOf(r4[1]).isDirectory())
  t.false(nodeFs.existsSync(made))
})

each('link: a short read ends the chain as io_uring does, and a batch does not', async (t, { ring, dir }) => {
  const f = join(dir, 'short')
  await nfs.writeFile(f, 'only ten b')
  const fh = await ring.fs.open(f, 'r+')
  try {
    const ops = [
      { op: 'read', buffer: Buffer.alloc(64), position: 0 },
      { op: 'write', buffer: Buffer.from('X'), position: 0 },
    ] as const
    const linked = await fh.link(ops)
    t.is(valueOf(linked[0]), 10)
    t.is(reasonOf(linked[1]).code, 'ECANCELED')
    t.is(nodeFs.readFileSync(f, 'utf8'), 'only ten b')
    // Asking for exactly what is there is not short: the chain goes on.
    const exact = await fh.link([
      { op: 'read', buffer: Buffer.alloc(10), position: 0 },
      { op: 'write', buffer: Buffer.from('O'), position: 0 },
    ])
    t.deepEqual(exact.map(valueOf), [10, 1])
    const batched = await fh.batch([
      { op: 'read', buffer: Buffer.alloc(64), position: 0 },
      { op: 'ftruncate', length: 4 },
    ])
    t.is(batched[1].status, 'fulfilled')
    t.is(nodeFs.readFileSync(f, 'utf8'), 'Only')
  } finally {
    await fh.close()
  }
})

each(
  'link: longer than the SQ still runs in order (one after the other)',
  async (t, { ring, dir }) => {
    const f = join(dir, 'long')
    const fh = await ring.fs.open(f, 'w+')
    try {
      const ops = Array.from({ length: 20 }, (_, i) => ({ op: 'write' as const, buffer: Buffer.from(`${i},`) }))
      const results = await fh.link(ops)
      t.true(results.every((r) => r.status === 'fulfilled'))
      t.is(nodeFs.readFileSync(f, 'utf8'), Array.from({ length: 20 }, (_, i) => `${i},`).join(''))
    } finally {
      await fh.close()
    }
  },
  { entries: 4 },
)

each('FileHandle.batch: closed handle, close op and refused ops', async (t, { ring, dir }) => {
  const f = join(dir, 'h')
  await nfs.writeFile(f, 'abc')
  const fh = await ring.fs.open(f, 'r')
  const e = await caught(() => fh.batch([{ op: 'close' } as any]))
  t.is(e?.code, 'ERR_INVALID_ARG_VALUE')
  t.regex(e?.message, /'read'/)
  // A write to a read-only handle fails alone; the read beside it succeeds.
  const results = await fh.batch([
    { op: 'write', buffer: Buffer.from('x'), position: 0 },
    { op: 'read', buffer: Buffer.alloc(3), position: 0 },
  ])
  t.deepEqual(
    errorShape(reasonOf(results[0])),
    errorShape(
      await caught(() =>
        nodeFs.promises.open(f, 'r').then(async (h) => {
          try {
            await h.write(Buffer.from('x'), 0, 1, 0)
          } finally {
            await h.close()
          }
        }),
      ),
    ),
  )
  t.is(valueOf(results[1]), 3)
  await fh.close()
  const closed = await caught(() => fh.batch([{ op: 'read', buffer: Buffer.alloc(1), position: 0 }]))
  t.is(closed?.code, 'EBADF')
  t.is(closed?.syscall, 'read')
})

each('batch: aborting cancels what is still running; finished ops keep their results', async (t, { backend, ring, dir }) => {
  const f = join(dir, 'f')
  await nfs.writeFile(f, 'hello')
  const { r, w } = silentFifo()
  const fd = nodeFs.openSync(f, 'r')
  try {
    const ac = new AbortController()
    const a = Buffer.alloc(5)
    const before = ring.stats().completed
    const pending = ring.batch(
      [
        { op: 'read', fd, buffer: a, position: 0 },
        { op: 'read', fd: r, buffer: Buffer.alloc(8) },
      ],
      { signal: ac.signal },
    )
    let settled = false
    void pending.finally(() => (settled = true))
    while (ring.stats().completed === before) await new Promise((res) => setTimeout(res, 5))
    await new Promise((res) => setTimeout(res, 20))
    t.false(settled, 'the read of the silent pipe is still running')
    ac.abort(new Error('stop'))
    // node:fs cannot stop a blocked read in the thread pool: it needs data to finish.
    if (backend === 'node') nodeFs.writeSync(w, 'x')
    const results = await pending
    t.is(valueOf(results[0]), 5)
    t.is(a.toString(), 'hello')
    const reason = reasonOf(results[1])
    t.is(reason.name, 'AbortError')
    t.is(reason.cause?.message, 'stop')
    t.is(ring.stats().inFlight, 0)
  } finally {
    nodeFs.closeSync(fd)
    nodeFs.closeSync(r)
    nodeFs.closeSync(w)
  }
})

each('link: an aborted chain reports AbortError for the ops that had not finished', async (t, { backend, ring }) => {
  const { r, w } = silentFifo()
  try {
    const ac = new AbortController()
    const before = ring.stats().completed
    const pending = ring.link([{ op: 'nop' }, { op: 'read', fd: r, buffer: Buffer.alloc(8) }, { op: 'write', fd: w, buffer: Buffer.from('never') }], { signal: ac.signal })
    // Abort once the nop has completed (and the read has surely started).
    while (ring.stats().completed === before) await new Promise((res) => setTimeout(res, 5))
    await new Promise((res) => setTimeout(res, 20))
    ac.abort()
    if (backend === 'node') nodeFs.writeSync(w, 'x')
    const results = await pending
    t.is(valueOf(results[0]), 0)
    t.is(reasonOf(results[1]).name, 'AbortError')
    t.is(reasonOf(results[2]).name, 'AbortError')
    if (backend === 'io_uring') {
      // Nothing was written: the write never ran.
      const got = Buffer.alloc(16)
      nodeFs.writeSync(w, '!')
      t.is(nodeFs.readSync(r, got, 0, 16, null), 1)
    }
  } finally {
    nodeFs.closeSync(r)
    nodeFs.closeSync(w)
  }
})

each('batch: a closed ring rejects every op of a batch with ERR_RING_CLOSED', async (t, { ring }) => {
  await ring.close()
  const results = await ring.batch([{ op: 'nop' }, { op: 'stat', path: '/' }])
  t.deepEqual(
    results.map((r) => reasonOf(r).code),
    ['ERR_RING_CLOSED', 'ERR_RING_CLOSED'],
  )
  const linked = await ring.link([{ op: 'nop' }, { op: 'nop' }])
  t.is(reasonOf(linked[0]).code, 'ERR_RING_CLOSED')
  t.is(reasonOf(linked[1]).code, 'ECANCELED')
})

each('batch: readFile and writeFile ops, on io_uring as chains through the file table', async (t, { ring, dir }) => {
  const names = Array.from({ length: 60 }, (_, i) => join(dir, `f${i}`))
  const written = await ring.batch(names.map((path, i) => ({ op: 'writeFile' as const, path, data: i % 2 ? pattern(i, 5000 + i) : `text ${i} é` })))
  t.true(written.every((r) => r.status === 'fulfilled' && r.value === undefined))
  const missing = join(dir, 'missing')
  const read = await ring.batch([...names.map((path) => ({ op: 'readFile' as const, path })), { op: 'readFile', path: missing }, { op: 'readFile', path: dir }])
  for (let i = 0; i < names.length; i++) {
    if (!valueOf(read[i]).equals(nodeFs.readFileSync(names[i]))) return t.fail(`file ${i}`)
    if (!valueOf(read[i]).equals(i % 2 ? pattern(i, 5000 + i) : Buffer.from(`text ${i} é`))) return t.fail(`content ${i}`)
  }
  t.deepEqual(errorShape(reasonOf(read[60])), errorShape(await caught(() => nfs.readFile(missing))))
  t.deepEqual(errorShape(reasonOf(read[61])), errorShape(await caught(() => nfs.readFile(dir))))
  // Options: flag, mode, encoding; a big file is read whole.
  const big = pattern(7, 300000)
  const more = await ring.batch([
    { op: 'writeFile', path: join(dir, 'latin'), data: 'é', encoding: 'latin1' },
    { op: 'writeFile', path: names[0], data: 'x', flag: 'wx' },
    { op: 'writeFile', path: join(dir, 'big'), data: big, mode: 0o600 },
  ])
  t.is(more[0].status, 'fulfilled')
  t.deepEqual(errorShape(reasonOf(more[1])), errorShape(await caught(() => nfs.writeFile(names[0], 'x', { flag: 'wx' }))))
  t.is(nodeFs.statSync(join(dir, 'big')).mode & 0o777, 0o600 & ~process.umask())
  const back = await ring.link([
    { op: 'readFile', path: join(dir, 'latin') },
    { op: 'readFile', path: join(dir, 'big') },
  ])
  t.deepEqual(valueOf(back[0]), Buffer.from([0xe9]))
  t.true(valueOf(back[1]).equals(big))
  t.is((await caught(() => ring.batch([{ op: 'writeFile', path: names[0], data: 5 as any }])))?.code, 'ERR_INVALID_ARG_TYPE')
  t.is((await caught(() => ring.batch([{ op: 'writeFile', path: names[0], data: 'x', encoding: 'nope' as any }])))?.code, 'ERR_INVALID_ARG_VALUE')
  t.is(ring.stats().inFlight, 0)
})

each('every Ring op takes { signal }: aborting cancels it with an AbortError; an already aborted signal starts nothing', async (t, { backend, ring, dir }) => {
  const { r, w } = silentFifo()
  try {
    const ac = new AbortController()
    const reading = ring.read(r, Buffer.alloc(4), null, { signal: ac.signal })
    let settled = false
    void reading.catch(() => {}).finally(() => (settled = true))
    await new Promise((res) => setTimeout(res, 30))
    t.false(settled)
    ac.abort(new Error('why'))
    if (backend === 'node') nodeFs.writeSync(w, 'x')
    const e = await caught(() => reading)
    t.is(e?.name, 'AbortError')
    t.is(e?.cause?.message, 'why')
  } finally {
    nodeFs.closeSync(r)
    nodeFs.closeSync(w)
  }
  const aborted = AbortSignal.abort()
  const f = join(dir, 'x')
  const before = ring.stats().submitted
  const calls: Array<() => Promise<unknown>> = [
    () => ring.read(0, Buffer.alloc(1), null, { signal: aborted }),
    () => ring.write(1, Buffer.alloc(1), null, { signal: aborted }),
    () => ring.readv(0, [Buffer.alloc(1)], null, { signal: aborted }),
    () => ring.writev(1, [Buffer.alloc(1)], null, { signal: aborted }),
    () => ring.openat(f, 'w', 0o644, { signal: aborted }),
    () => ring.closeFd(1000, { signal: aborted }),
    () => ring.stat(f, { signal: aborted }),
    () => ring.lstat(f, { signal: aborted }),
    () => ring.fstat(0, { signal: aborted }),
    () => ring.fsync(0, { signal: aborted }),
    () => ring.fdatasync(0, { signal: aborted }),
    () => ring.ftruncate(0, 0, { signal: aborted }),
    () => ring.unlink(f, { signal: aborted }),
    () => ring.rmdir(f, { signal: aborted }),
    () => ring.mkdir(f, 0o755, { signal: aborted }),
    () => ring.rename(f, f, { signal: aborted }),
    () => ring.nop({ signal: aborted }),
  ]
  for (const call of calls) t.is((await caught(call))?.name, 'AbortError')
  t.is(ring.stats().submitted, before)
  t.false(nodeFs.existsSync(f))
  t.is((await caught(() => ring.nop({ signal: {} as any })))?.code, 'ERR_INVALID_ARG_TYPE')
  // A live signal that never aborts changes nothing.
  const fd = await ring.openat(f, 'w+', 0o644, { signal: new AbortController().signal })
  t.is(await ring.write(fd, Buffer.from('ok'), 0, { signal: new AbortController().signal }), 2)
  await ring.closeFd(fd)
  t.is(nodeFs.readFileSync(f, 'utf8'), 'ok')
})

each('ring.close() during a batch and a chain settles every op of both', async (t, { backend, ring, dir }) => {
  const f = join(dir, 'c')
  await nfs.writeFile(f, pattern(0, 1 << 16))
  const fd = nodeFs.openSync(f, 'r')
  const { r, w } = silentFifo()
  try {
    const reads = Array.from({ length: 200 }, (_, i) => ({ op: 'read' as const, fd, buffer: Buffer.alloc(256), position: (i * 256) % (1 << 16) }))
    const batch = ring.batch([...reads, { op: 'read', fd: r, buffer: Buffer.alloc(4) }])
    const chain = ring.link([{ op: 'read', fd: r, buffer: Buffer.alloc(4) }, { op: 'nop' }])
    await new Promise((res) => setTimeout(res, 20))
    const closing = ring.close()
    // node:fs cannot cancel blocked reads: data ends them.
    if (backend === 'node') nodeFs.writeSync(w, 'abcdefgh')
    await closing
    const [b, c] = await Promise.all([batch, chain])
    t.is(b.length, 201)
    for (let i = 0; i < 200; i++) if (valueOf(b[i]) !== 256) return t.fail(`read ${i}`)
    if (backend === 'io_uring') {
      t.is(reasonOf(b[200]).code, 'ECANCELED')
      t.is(reasonOf(c[0]).code, 'ECANCELED')
      t.is(reasonOf(c[1]).code, 'ECANCELED')
    } else {
      t.true(b[200].status === 'fulfilled' || c[0].status === 'fulfilled')
    }
    t.is(ring.stats().inFlight, 0)
  } finally {
    nodeFs.closeSync(fd)
    nodeFs.closeSync(r)
    nodeFs.closeSync(w)
  }
})

// @types/node 20 is the project's own; 22 and 24 are installed as types-node-22/-24 and put in
// place of it through typeRoots (the primary lookup, also for undici-types' reference to "node").
for (const line of [20, 22, 24]) {
  test(`the types (tsc on __test__/types, @types/node ${line}): batch results follow the ops, wrong ops do not compile; uring/fs is assignable to typeof node:fs/promises and its FileHandle to @types/node's; readableWebStream's chunks are the line's`, (t) => {
    const tsc = join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc')
    const types = join(__dirname, 'types')
    let project = join(types, 'tsconfig.json')
    if (line !== 20) {
      const tmp = nodeFs.mkdtempSync(join(tmpdir(), 'uring-types-'))
      t.teardown(() => nodeFs.rmSync(tmp, { recursive: true, force: true }))
      nodeFs.mkdirSync(join(tmp, 'roots'))
      nodeFs.symlinkSync(join(__dirname, '..', 'node_modules', `types-node-${line}`), join(tmp, 'roots', 'node'))
      project = join(tmp, 'tsconfig.json')
      nodeFs.writeFileSync(
        project,
        JSON.stringify({
          extends: join(types, 'tsconfig.json'),
          compilerOptions: { types: ['node'], typeRoots: [join(tmp, 'roots')] },
          files: ['batch.ts', 'assignable.ts', 'web-stream-22.ts'].map((f) => join(types, f)),
        }),
      )
    }
    const r = spawnSync(process.execPath, [tsc, '-p', project, '--listFiles'], { encoding: 'utf8' })
    t.is(
      r.status,
      0,
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('/'))
        .join('\n') + r.stderr,
    )
    const version = JSON.parse(nodeFs.readFileSync(join(__dirname, '..', 'node_modules', line === 20 ? '@types/node' : `types-node-${line}`, 'package.json'), 'utf8')).version
    t.true(version.startsWith(`${line}.`), version)
    // Only that line's declarations were in the program.
    const others = r.stdout.split('\n').filter((f) => /node_modules\/(@types\/node|types-node-\d+)\//.test(f) && !f.includes(line === 20 ? '/@types/node/' : `/types-node-${line}/`))
    t.deepEqual(others, [])
  })
}
