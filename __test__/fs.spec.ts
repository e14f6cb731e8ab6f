// ring.fs against node:fs/promises: same results, same shapes, same errors, on both backends.
import * as nodeFs from 'node:fs'
import * as nfs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { silentFifo } from './fixtures/fifo.cjs'
import test from 'ava'
import { caught, each, errorShape, pattern } from './helpers'

each('writeFile / appendFile / readFile round trip, with encodings and iterables', async (t, { ring, dir }) => {
  const fs = ring.fs
  const f = join(dir, 'a.txt')
  await fs.writeFile(f, 'héllo ')
  await fs.appendFile(f, Buffer.from('wörld'))
  await fs.appendFile(f, ['!', Buffer.from('?')])
  await fs.appendFile(
    f,
    (async function* () {
      yield 'a'
      yield new Uint8Array([0x62])
    })(),
  )
  t.is(await nfs.readFile(f, 'utf8'), 'héllo wörld!?ab')
  t.is(await fs.readFile(f, 'utf8'), 'héllo wörld!?ab')
  t.is(await fs.readFile(f, { encoding: 'latin1' }), await nfs.readFile(f, { encoding: 'latin1' }))
  t.deepEqual(await fs.readFile(f), await nfs.readFile(f))
  t.deepEqual(await fs.readFile(pathToFileURL(f)), await nfs.readFile(f))
  await fs.writeFile(f, 'aGk=', 'base64')
  t.is(await nfs.readFile(f, 'utf8'), 'hi')
  // A large file crosses the read chunk size and is read completely.
  const big = pattern(0, 3 * 1024 * 1024 + 17)
  await fs.writeFile(join(dir, 'big'), big)
  t.true(big.equals(await fs.readFile(join(dir, 'big'))))
  t.true(big.equals(await nfs.readFile(join(dir, 'big'))))
  // Files that report size 0 (procfs) are read to their end.
  t.is(await fs.readFile('/proc/self/status', 'utf8').then((s) => s.startsWith('Name:')), true)
  // An aborted signal stops before any I/O, as in Node.
  const ac = new AbortController()
  ac.abort()
  t.is((await caught(() => fs.readFile(f, { signal: ac.signal })))?.name, 'AbortError')
  t.is((await caught(() => fs.writeFile(f, 'x', { signal: ac.signal })))?.name, 'AbortError')
})

each('FileHandle.read accepts every node:fs/promises form and returns the same shape', async (t, { ring, dir }) => {
  const f = join(dir, 'r.bin')
  const data = pattern(0, 50000)
  await nfs.writeFile(f, data)
  const fh = await ring.fs.open(f, 'r')
  const nh = await nfs.open(f, 'r')
  try {
    const forms: Array<(h: any) => Promise<any>> = [
      (h) => h.read(Buffer.alloc(100), 0, 100, 10),
      (h) => h.read(Buffer.alloc(100), 5, 50, 1000),
      (h) => h.read(Buffer.alloc(100), { offset: 3, length: 7, position: 77 }),
      (h) => h.read(Buffer.alloc(100), { position: 49990 }),
      (h) => h.read({ buffer: Buffer.alloc(64), position: 128 }),
      (h) => h.read(Buffer.alloc(10), 0, 10, 100000),
      (h) => h.read(Buffer.alloc(10), 0, 0, 5),
      (h) => h.read(new Uint16Array(8), 0, 16, 2),
      (h) => h.read(Buffer.alloc(16), null, null, 20n),
      (h) => h.read(Buffer.alloc(16), 0, 16, -1),
    ]
    for (const [i, form] of forms.entries()) {
      const mine = await form(fh)
      const theirs = await form(nh)
      t.is(mine.bytesRead, theirs.bytesRead, `form ${i}`)
      t.deepEqual(Buffer.from(mine.buffer.buffer, mine.buffer.byteOffset, mine.buffer.byteLength), Buffer.from(theirs.buffer.buffer, theirs.buffer.byteOffset, theirs.buffer.byteLength), `form ${i}`)
    }
    // No arguments: a new 16 KiB buffer, read from the current position (which advances).
    const a = await fh.read()
    const b = await nh.read()
    t.is(a.bytesRead, 16384)
    t.is(a.buffer.length, 16384)
    t.deepEqual(a.buffer, b.buffer)
    // The current position advanced the same way on both.
    const a2 = await fh.read(Buffer.alloc(10), 0, 10, null)
    const b2 = await nh.read(Buffer.alloc(10), 0, 10, null)
    t.deepEqual(a2.buffer, b2.buffer)
    t.notDeepEqual(a2.buffer, Buffer.alloc(10))
  } finally {
    await nh.close()
    await fh.close()
  }
})

each('FileHandle.write / writev / readv / stat / truncate / sync behave as node:fs/promises', async (t, { ring, dir }) => {
  const f = join(dir, 'w.bin')
  const fh = await ring.fs.open(f, 'w+')
  try {
    t.deepEqual(await fh.write(Buffer.from('0123456789')), { bytesWritten: 10, buffer: Buffer.from('0123456789') })
    const w2 = await fh.write(Buffer.from('abcdef'), 1, 3, 2)
    t.is(w2.bytesWritten, 3)
    const w3 = await fh.write('ZZ', 8, 'utf8')
    t.deepEqual({ ...w3 }, { bytesWritten: 2, buffer: 'ZZ' })
    const w4 = await fh.write(Buffer.from('xy'), { offset: 0, length: 2, position: 0 })
    t.is(w4.bytesWritten, 2)
    t.is(await nfs.readFile(f, 'latin1'), 'xybcd567ZZ')
    const wv = await fh.writev([Buffer.from('AB'), Buffer.from('CD')], 20)
    t.is(wv.bytesWritten, 4)
    const bufs = [Buffer.alloc(2), Buffer.alloc(3)]
    const rv = await fh.readv(bufs, 19)
    t.is(rv.bytesRead, 5)
    t.is(rv.buffers, bufs)
    t.deepEqual(Buffer.concat(bufs), Buffer.from('\0ABCD'))
    const st = await fh.stat()
    const ns = await nfs.stat(f)
    t.is(st.size, 24)
    t.true(st.isFile())
    t.false(st.isDirectory())
    t.true(st instanceof nodeFs.Stats)
    for (const k of ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'mtimeMs', 'ctimeMs', 'birthtimeMs'] as const) {
      t.is(st[k], ns[k], k)
    }
    t.deepEqual(st.mtime, ns.mtime)
    const big = await fh.stat({ bigint: true })
    t.is(big.size, 24n)
    await fh.sync()
    await fh.datasync()
    await fh.truncate(5)
    t.is((await nfs.stat(f)).size, 5)
    await fh.truncate()
    t.is((await nfs.stat(f)).size, 0)
  } finally {
    await fh.close()
  }
})

each('FileHandle.readFile/writeFile/appendFile work at the current position', async (t, { ring, dir }) => {
  const f = join(dir, 'h.txt')
  await nfs.writeFile(f, 'abcdef')
  const fh = await ring.fs.open(f, 'r+')
  try {
    await fh.read(Buffer.alloc(2), 0, 2, null)
    t.is(await fh.readFile('utf8'), 'cdef')
    await fh.writeFile('XY')
    await fh.appendFile('Z')
    t.is(await nfs.readFile(f, 'utf8'), 'abcdefXYZ')
    t.deepEqual(await ring.fs.readFile(fh), Buffer.alloc(0))
  } finally {
    await fh.close()
  }
})

each('close waits for pending ops, then ops fail like a closed node FileHandle', async (t, { ring, dir }) => {
  const f = join(dir, 'c.bin')
  await nfs.writeFile(f, pattern(0, 1 << 20))
  const fh = await ring.fs.open(f)
  const fd = fh.fd
  t.true(fd >= 0)
  const reads = Array.from({ length: 64 }, (_, i) => fh.read(Buffer.alloc(4096), 0, 4096, i * 4096))
  const closing = fh.close()
  // Reads issued before close complete with their data.
  const results = await Promise.all(reads)
  for (let i = 0; i < results.length; i++) t.true(results[i].buffer.equals(pattern(i * 4096, 4096)))
  await closing
  t.is(fh.fd, -1)
  await fh.close() // closing twice is harmless
  const nh = await nfs.open(f)
  await nh.close()
  const mine = await caught(() => fh.read(Buffer.alloc(1), 0, 1, 0))
  const theirs = await caught(() => nh.read(Buffer.alloc(1), 0, 1, 0))
  t.deepEqual(errorShape(mine), errorShape(theirs))
  t.deepEqual(errorShape(await caught(() => fh.stat())), errorShape(await caught(() => nh.stat())))
  // The fd really is closed (its number may already be reused by a concurrent test, never for this file).
  let target: string | undefined
  try {
    target = nodeFs.readlinkSync(`/proc/self/fd/${fd}`)
  } catch {}
  t.not(target, f)
  // Symbol.asyncDispose closes too.
  const fh2 = await ring.fs.open(f)
  await fh2[Symbol.asyncDispose]()
  t.is(fh2.fd, -1)
})

each('directories: mkdir (recursive returns the first created), rmdir, rename, unlink, lstat', async (t, { ring, dir }) => {
  process.removeAllListeners('warning') // the deprecated rmdir({ recursive }) below warns once
  const fs = ring.fs
  t.is(await fs.mkdir(join(dir, 'a')), undefined)
  await nfs.mkdir(join(dir, 'n'))
  const theirs = await nfs.mkdir(join(dir, 'n/b/c/d'), { recursive: true })
  t.is(theirs, join(dir, 'n/b'))
  t.is(await fs.mkdir(join(dir, 'a/b/c/d'), { recursive: true }), join(dir, 'a/b'))
  const rel = `relative-from-cwd-${process.pid}-${ring.backend}`
  t.is(await fs.mkdir(rel, { recursive: true }), rel)
  await nfs.rmdir(rel)
  t.is(await fs.mkdir(join(dir, 'a/b/c/d'), { recursive: true }), undefined)
  t.true((await fs.stat(join(dir, 'a/b/c/d'))).isDirectory())
  await fs.rmdir(join(dir, 'a/b/c/d'))
  t.false(nodeFs.existsSync(join(dir, 'a/b/c/d')))
  await nfs.writeFile(join(dir, 'f'), 'x')
  await fs.rename(join(dir, 'f'), join(dir, 'g'))
  t.is(await nfs.readFile(join(dir, 'g'), 'utf8'), 'x')
  await nfs.symlink(join(dir, 'g'), join(dir, 'link'))
  t.true((await fs.lstat(join(dir, 'link'))).isSymbolicLink())
  t.true((await fs.stat(join(dir, 'link'))).isFile())
  await fs.unlink(join(dir, 'link'))
  await fs.unlink(join(dir, 'g'))
  t.false(nodeFs.existsSync(join(dir, 'g')))
  await fs.mkdir(join(dir, 'm'), 0o700)
  t.is((await nfs.stat(join(dir, 'm'))).mode & 0o777, 0o700 & ~process.umask())
  await fs.mkdir(join(dir, 'r/s'), { recursive: true })
  await fs.rmdir(join(dir, 'r'), { recursive: true })
  t.false(nodeFs.existsSync(join(dir, 'r')))
})

each('system errors match node:fs/promises (code, errno, syscall, path, message)', async (t, { ring, dir }) => {
  const fs = ring.fs
  await nfs.writeFile(join(dir, 'file'), 'x')
  await nfs.mkdir(join(dir, 'full'))
  await nfs.writeFile(join(dir, 'full/x'), 'x')
  const missing = join(dir, 'missing')
  const cases: Array<[string, (f: any) => Promise<unknown>]> = [
    ['open ENOENT', (f) => f.open(join(missing, 'x'))],
    ['open EISDIR', (f) => f.open(dir, 'w')],
    ['open EEXIST', (f) => f.open(join(dir, 'file'), 'wx')],
    ['open ENOTDIR', (f) => f.open(join(dir, 'file/x'))],
    ['readFile ENOENT', (f) => f.readFile(missing)],
    ['readFile EISDIR', (f) => f.readFile(dir)],
    ['writeFile EISDIR', (f) => f.writeFile(dir, 'x')],
    ['appendFile ENOENT', (f) => f.appendFile(join(missing, 'x'), 'x')],
    ['stat ENOENT', (f) => f.stat(missing)],
    ['lstat ENOENT', (f) => f.lstat(missing)],
    ['unlink ENOENT', (f) => f.unlink(missing)],
    ['unlink EISDIR', (f) => f.unlink(dir)],
    ['rmdir ENOTEMPTY', (f) => f.rmdir(join(dir, 'full'))],
    ['rmdir ENOTDIR', (f) => f.rmdir(join(dir, 'file'))],
    ['mkdir EEXIST', (f) => f.mkdir(dir)],
    ['mkdir ENOENT', (f) => f.mkdir(join(missing, 'a'))],
    ['mkdir recursive over a file', (f) => f.mkdir(join(dir, 'file'), { recursive: true })],
    ['mkdir recursive under a file', (f) => f.mkdir(join(dir, 'file/a/b'), { recursive: true })],
    ['rename ENOENT', (f) => f.rename(missing, join(dir, 'z'))],
    ['rename EISDIR', (f) => f.rename(join(dir, 'file'), join(dir, 'full'))],
  ]
  for (const [name, call] of cases) {
    const mine = errorShape(await caught(() => call(fs)))
    const theirs = errorShape(await caught(() => call(nfs)))
    t.deepEqual(mine, theirs, name)
    t.not(theirs.code, undefined, name)
  }
})

each('argument validation matches node:fs/promises (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ...)', async (t, { ring, dir }) => {
  const f = join(dir, 'v')
  await nfs.writeFile(f, 'abc')
  const fh = await ring.fs.open(f, 'r+')
  const nh = await nfs.open(f, 'r+')
  try {
    const handleCases: Array<[string, (h: any) => Promise<unknown>]> = [
      ['read buffer type', (h) => h.read('x')],
      ['read length too big', (h) => h.read(Buffer.alloc(4), 0, 5, 0)],
      ['read negative offset', (h) => h.read(Buffer.alloc(4), -1, 1, 0)],
      ['read offset type', (h) => h.read(Buffer.alloc(4), 'a', 1, 0)],
      // Node 20 reads at the current position here; Node 22 throws. Either way: the same as Node.
      ['read position type?', (h) => h.read(Buffer.alloc(4), 0, 1, 'x')],
      ['read position range?', (h) => h.read(Buffer.alloc(4), 0, 1, -2)],
      ['read position bigint?', (h) => h.read(Buffer.alloc(4), 0, 1, 1n)],
      ['read empty buffer', (h) => h.read(Buffer.alloc(0), 0, 1, 0)],
      ['write bad data', (h) => h.write(42)],
      ['write length too big', (h) => h.write(Buffer.alloc(4), 0, 5, 0)],
      ['write offset too big', (h) => h.write(Buffer.alloc(4), 5)],
      ['writev not array', (h) => h.writev('x')],
      ['readv bad element', (h) => h.readv([Buffer.alloc(1), 'x'])],
      ['truncate len type', (h) => h.truncate('1')],
      ['stat options type?', (h) => h.stat(5)],
    ]
    for (const [name, call] of handleCases) {
      const mine = errorShape(await caught(() => call(fh)))
      const theirs = errorShape(await caught(() => call(nh)))
      t.deepEqual(mine, theirs, name)
      if (!name.endsWith('?')) t.not(theirs.code, undefined, name)
    }
  } finally {
    await fh.close()
    await nh.close()
  }
  const fsCases: Array<[string, (x: any) => Promise<unknown>]> = [
    ['open path type', (x) => x.open(42)],
    ['open NUL byte', (x) => x.open('a\0b')],
    ['open bad flags', (x) => x.open(f, 'zz')],
    ['open bad mode', (x) => x.open(f, 'r', 'rwx')],
    ['readFile bad encoding', (x) => x.readFile(f, 'nope')],
    ['readFile bad options', (x) => x.readFile(f, 42)],
    ['writeFile bad data', (x) => x.writeFile(f, 42)],
    ['mkdir bad recursive', (x) => x.mkdir(join(dir, 'q'), { recursive: 'yes' })],
    ['rename bad newPath', (x) => x.rename(f, 5)],
    ['stat bigint truthy?', (x) => x.stat(f, { bigint: 1 }).then((s: any) => typeof s.size)],
  ]
  for (const [name, call] of fsCases) {
    const mine = errorShape(await caught(() => call(ring.fs)))
    const theirs = errorShape(await caught(() => call(nfs)))
    t.deepEqual(mine, theirs, name)
    if (!name.endsWith('?')) t.not(theirs.code, undefined, name)
  }
  // Only `true` selects BigIntStats (Node's binding checks IsTrue): as node:fs/promises does.
  for (const bigint of [1, 'yes', true, 0]) {
    t.is(typeof (await ring.fs.stat(f, { bigint } as any)).size, typeof (await nfs.stat(f, { bigint } as any)).size, `bigint: ${bigint}`)
  }
  t.is(typeof (await ring.fs.stat(f, { bigint: true })).size, 'bigint')
})

each('data stays correct under GC pressure with thousands of reads in flight', async (t, { ring, dir }) => {
  const f = join(dir, 'gc.bin')
  const SIZE = 8 << 20
  await nfs.writeFile(f, pattern(0, SIZE))
  const fh = await ring.fs.open(f)
  try {
    for (let round = 0; round < 3; round++) {
      const reads: Array<Promise<{ bytesRead: number; buffer: Buffer }>> = []
      const offsets: number[] = []
      for (let i = 0; i < 4000; i++) {
        const off = ((i * 7919 + round * 104729) % (SIZE / 512)) * 512
        offsets.push(off)
        // Each buffer is referenced only by the in-flight op until it completes.
        reads.push(fh.read(Buffer.alloc(512), 0, 512, off))
        if (i % 500 === 0) {
          // Garbage, and a full collection, while ops are in flight.
          let junk: unknown[] = []
          for (let j = 0; j < 20000; j++) junk.push({ j, s: `x${j}` }, new Uint8Array(64))
          junk = []
          globalThis.gc?.()
        }
      }
      t.true(ring.stats().inFlight > 0 || ring.backend === 'node')
      const results = await Promise.all(reads)
      let bad = 0
      for (let i = 0; i < results.length; i++) {
        if (results[i].bytesRead !== 512 || !results[i].buffer.equals(pattern(offsets[i], 512))) bad++
      }
      t.is(bad, 0)
    }
    t.is(ring.stats().inFlight, 0)
  } finally {
    await fh.close()
  }
})

each('reads into views of one ArrayBuffer are correct, and the buffer is collectable afterwards', async (t, { ring, dir }) => {
  const f = join(dir, 'shared.bin')
  await nfs.writeFile(f, pattern(0, 1 << 16))
  const fh = await ring.fs.open(f)
  let weak: WeakRef<ArrayBuffer> | undefined
  try {
    await (async () => {
      const ab = new ArrayBuffer(1 << 16)
      // 16 ops in flight at once on the same ArrayBuffer, twice over (the second round reuses it).
      for (let round = 0; round < 2; round++) {
        const views = Array.from({ length: 16 }, (_, i) => new Uint8Array(ab, i * 4096, 4096))
        const results = await Promise.all(views.map((v, i) => fh.read(v, 0, 4096, ((i + round * 5) % 16) * 4096)))
        results.forEach((r, i) => {
          t.is(r.bytesRead, 4096)
          t.true(Buffer.from(r.buffer.buffer, r.buffer.byteOffset, 4096).equals(pattern(((i + round * 5) % 16) * 4096, 4096)))
        })
      }
      weak = new WeakRef(ab)
    })()
  } finally {
    await fh.close()
  }
  // Nothing of the ring may keep the buffer once its ops are done.
  for (let i = 0; i < 20 && weak!.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r))
    globalThis.gc!()
  }
  t.is(weak!.deref(), undefined)
})

each('ring.close() with ops in flight settles every op, then later ops reject', async (t, { ring, dir }) => {
  const f = join(dir, 'close.bin')
  await nfs.writeFile(f, pattern(0, 1 << 20))
  const fh = await ring.fs.open(f)
  const ops: Promise<unknown>[] = Array.from({ length: 3000 }, (_, i) => fh.read(Buffer.alloc(256), 0, 256, (i * 256) % (1 << 20)))
  // Ops the ring's executor runs (readdir, stat): each settles with its own result or a rejection.
  const listings = Array.from({ length: 200 }, (_, i) => (i % 2 ? ring.fs.readdir(dir, { withFileTypes: true }) : ring.fs.stat(f)))
  ops.push(...listings)
  // A read that can only end by cancellation: an empty pipe.
  const { r: rfd, w: wfd } = silentFifo()
  const stuck = ring.read(rfd, Buffer.alloc(16))
  const closing = ring.close()
  // The thread pool cannot cancel a blocking read: node:fs needs the data to finish it.
  if (ring.backend === 'node') nodeFs.writeSync(wfd, 'x')
  await closing
  const settled = await Promise.allSettled([...ops, stuck])
  t.is(settled.length, 3201)
  for (const s of settled) {
    if (s.status === 'rejected') t.true(['ECANCELED', 'ERR_RING_CLOSED', 'EINTR'].includes((s.reason as any).code), String(s.reason))
  }
  for (const [i, l] of (await Promise.allSettled(listings)).entries()) {
    if (l.status !== 'fulfilled') continue
    if (i % 2)
      t.deepEqual(
        (l.value as import('node:fs').Dirent[]).map((e) => e.name),
        nodeFs.readdirSync(dir),
      )
    else t.is((l.value as import('node:fs').Stats).size, 1 << 20)
  }
  if (ring.backend === 'io_uring') {
    const last = settled[settled.length - 1]
    t.is(last.status, 'rejected')
    t.is((last as PromiseRejectedResult).reason.code, 'ECANCELED')
  }
  t.is(ring.stats().inFlight, 0)
  t.is((await caught(() => ring.fs.stat(f)))?.code, 'ERR_RING_CLOSED')
  t.is((await caught(() => ring.nop()))?.code, 'ERR_RING_CLOSED')
  // A handle's op refused by the closed ring is not counted as pending: close() does not wait for it.
  t.is((await caught(() => fh.read(Buffer.alloc(16), 0, 16, 0)))?.code, 'ERR_RING_CLOSED')
  t.is((await caught(() => fh.stat()))?.code, 'ERR_RING_CLOSED')
  // The handle's fd is still open after the ring closed: close() closes it through node:fs.
  t.is(fdsOn(f), 1)
  await fh.close()
  t.is(fh.fd, -1)
  t.is(fdsOn(f), 0)
  nodeFs.closeSync(wfd)
  nodeFs.closeSync(rfd)
})

each('stream options node:fs mishandles (a TypeError from a half-built stream) give argument errors', async (t, { ring, dir }) => {
  const f = join(dir, 's')
  await nfs.writeFile(f, 'abc')
  const fh = await ring.fs.open(f, 'r+')
  try {
    t.is(errorShape(await caught(() => fh.createReadStream({ start: 10, end: 5 }))).code, 'ERR_OUT_OF_RANGE')
    t.is(errorShape(await caught(() => fh.createReadStream({ start: -1 }))).code, 'ERR_OUT_OF_RANGE')
    t.is(errorShape(await caught(() => fh.createReadStream({ end: 1.5 }))).code, 'ERR_OUT_OF_RANGE')
    t.is(errorShape(await caught(() => fh.createWriteStream({ flush: 'yes' as any }))).code, 'ERR_INVALID_ARG_TYPE')
    t.is(fh.fd > 0, true, 'a refused stream leaves the handle open')
  } finally {
    await fh.close()
  }
})

/** fds of this process that are open on `path`. */
function fdsOn(path: string): number {
  let n = 0
  for (const fd of nodeFs.readdirSync('/proc/self/fd')) {
    try {
      if (nodeFs.readlinkSync(`/proc/self/fd/${fd}`) === path) n++
    } catch {}
  }
  return n
}

each('an aborted readFile stops a blocked open and a blocked read, and leaks no fd', async (t, { backend, ring, dir }) => {
  const { execFileSync } = await import('node:child_process')
  const p = join(dir, 'fifo')
  execFileSync('mkfifo', [p])
  // 1. open blocks: a FIFO with no writer.
  // Waits until `cond()` holds (at most 5 s).
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
  }
  // After an abort: io_uring settles (it cancels in the kernel); node:fs cannot stop thread-pool
  // work, and after a while has still not settled.
  const afterAbort = async (isSettled: () => boolean): Promise<void> => {
    if (backend === 'io_uring') await until(isSettled)
    else await new Promise((r) => setTimeout(r, 30))
    t.is(isSettled(), backend === 'io_uring')
  }
  let ac = new AbortController()
  let settled = false
  let before = ring.stats()
  const opening = ring.fs.readFile(p, { signal: ac.signal }).finally(() => (settled = true))
  void opening.catch(() => {}) // checked below
  // The open has started (on node:fs it may still wait for a thread-pool thread: the same).
  await until(() => ring.stats().submitted > before.submitted)
  await new Promise((r) => setTimeout(r, 30))
  t.false(settled)
  ac.abort(new Error('enough'))
  await afterAbort(() => settled)
  let w = -1
  try {
    w = nodeFs.openSync(p, nodeFs.constants.O_WRONLY | nodeFs.constants.O_NONBLOCK)
  } catch (e) {
    t.is((e as NodeJS.ErrnoException).code, 'ENXIO', 'no reader left')
  }
  const e1 = await caught(() => opening)
  t.is(e1?.name, 'AbortError')
  t.is(e1?.cause?.message, 'enough')
  if (w >= 0) nodeFs.closeSync(w)
  await new Promise((r) => setTimeout(r, 20))
  t.is(fdsOn(p), 0, 'the fd an aborted open returned was closed')

  // 2. read blocks: the writer is there but silent.
  ac = new AbortController()
  settled = false
  const r0 = nodeFs.openSync(p, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK)
  w = nodeFs.openSync(p, 'w')
  before = ring.stats()
  const reading = ring.fs.readFile(p, { signal: ac.signal }).finally(() => (settled = true))
  void reading.catch(() => {}) // checked below
  // Abort only once the read is what blocks: the open (and on node:fs the fstat) have completed.
  const done = backend === 'io_uring' ? 1 : 2
  await until(() => ring.stats().completed - before.completed >= done && ring.stats().inFlight > 0)
  await new Promise((r) => setTimeout(r, 30))
  t.false(settled)
  ac.abort()
  await afterAbort(() => settled)
  nodeFs.writeSync(w, 'late')
  nodeFs.closeSync(w)
  nodeFs.closeSync(r0)
  t.is((await caught(() => reading))?.name, 'AbortError')
  await new Promise((r) => setTimeout(r, 20))
  t.is(fdsOn(p), 0)
  t.is(ring.stats().inFlight, 0)
})

each('readFile and writeFile of a path: one chain of ops on io_uring, no fd, same results', async (t, { backend, ring, dir }) => {
  const f = join(dir, 'small')
  const before = ring.stats().completed
  await ring.fs.writeFile(f, 'chained')
  // open → write → close; then open → read → read (0: the end) → close. The step-by-step path
  // takes 3 and 5 ops.
  if (backend === 'io_uring') t.is(ring.stats().completed - before, 3)
  const read = ring.fs.readFile(f, 'utf8')
  t.is(await read, 'chained')
  await new Promise((r) => setImmediate(r)) // the close of the file-table slot completes
  if (backend === 'io_uring') t.is(ring.stats().completed - before, 7)
  t.is(fdsOn(f), 0)

  // Sizes around the two 64 KiB reads of the chain, and a file read on after them.
  for (const size of [0, 1, 65535, 65536, 65537, 131072, 131073, 300_000]) {
    const data = pattern(size, size)
    await ring.fs.writeFile(f, data)
    t.deepEqual(await nfs.readFile(f), data, `written ${size}`)
    t.deepEqual(await ring.fs.readFile(f), data, `read ${size}`)
  }
  // Flags: 'a+' creates and appends; 'wx' fails on an existing file as open does.
  await ring.fs.writeFile(f, 'x', { flag: 'a' })
  t.is((await ring.fs.readFile(f)).length, 300_001)
  t.deepEqual(errorShape(await caught(() => ring.fs.writeFile(f, 'y', { flag: 'wx' }))), errorShape(await caught(() => nfs.writeFile(f, 'y', { flag: 'wx' }))))
  t.deepEqual(errorShape(await caught(() => ring.fs.readFile(dir))), errorShape(await caught(() => nfs.readFile(dir))))
  t.deepEqual(errorShape(await caught(() => ring.fs.writeFile(dir, 'z'))), errorShape(await caught(() => nfs.writeFile(dir, 'z'))))
  t.deepEqual(errorShape(await caught(() => ring.fs.readFile(join(dir, 'none')))), errorShape(await caught(() => nfs.readFile(join(dir, 'none')))))
  // readFile with a write-only flag opens (and truncates), then fails to read, as Node.
  t.deepEqual(errorShape(await caught(() => ring.fs.readFile(f, { flag: 'w' }))), errorShape(await caught(() => nfs.readFile(f, { flag: 'w' }))))
  t.is(nodeFs.statSync(f).size, 0)
  // flush: fsync before close (Node 20.10+); validated as Node does.
  await ring.fs.writeFile(f, 'flushed', { flush: true })
  t.is(nodeFs.readFileSync(f, 'utf8'), 'flushed')
  t.deepEqual(errorShape(await caught(() => ring.fs.writeFile(f, 'y', { flush: 'yes' as any }))), errorShape(await caught(() => nfs.writeFile(f, 'y', { flush: 'yes' as any }))))
  t.is(fdsOn(f), 0)
  t.is(ring.stats().inFlight, 0)
})

each(
  'more readFiles at once than file-table slots: the rest take the step-by-step path',
  async (t, { ring, dir }) => {
    const names = Array.from({ length: 40 }, (_, i) => join(dir, `f${i}`))
    names.forEach((n, i) => nodeFs.writeFileSync(n, `file ${i}`))
    const got = await Promise.all(names.map((n) => ring.fs.readFile(n, 'utf8')))
    t.deepEqual(
      got,
      names.map((_, i) => `file ${i}`),
    )
    await Promise.all(names.map((n, i) => ring.fs.writeFile(n, `again ${i}`)))
    t.deepEqual(
      names.map((n) => nodeFs.readFileSync(n, 'utf8')),
      names.map((_, i) => `again ${i}`),
    )
  },
  { entries: 4 },
)

each(
  'a ring too small for a chain reads and writes files step by step',
  async (t, { ring, dir }) => {
    const f = join(dir, 'tiny')
    await ring.fs.writeFile(f, 'small ring')
    t.is(await ring.fs.readFile(f, 'utf8'), 'small ring')
    t.is(ring.stats().inFlight, 0)
  },
  { entries: 2 },
)

each('readFile of a FIFO reads until the writer closes, across short reads', async (t, { ring, dir }) => {
  const { execFileSync } = await import('node:child_process')
  const p = join(dir, 'fifo')
  execFileSync('mkfifo', [p])
  const reading = ring.fs.readFile(p, 'utf8')
  // The open completes once a writer is there; each write is its own short read.
  const w = await new Promise<number>((resolve) => {
    const tryOpen = (): void => {
      try {
        resolve(nodeFs.openSync(p, nodeFs.constants.O_WRONLY | nodeFs.constants.O_NONBLOCK))
      } catch {
        setTimeout(tryOpen, 5)
      }
    }
    tryOpen()
  })
  for (const part of ['one ', 'two ', 'three']) {
    nodeFs.writeSync(w, part)
    await new Promise((r) => setTimeout(r, 20))
  }
  nodeFs.closeSync(w)
  t.is(await reading, 'one two three')
  t.is(fdsOn(p), 0)
})

each('a FileHandle collected while open has its fd closed, with a warning (as Node does)', async (t, { ring, dir }) => {
  const f = join(dir, 'gc-me')
  await nfs.writeFile(f, 'x')
  const warnings: string[] = []
  const onWarning = (w: Error): void => void warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    await (async () => {
      const fh = await ring.fs.open(f)
      t.is((await fh.read(Buffer.alloc(1), 0, 1, 0)).bytesRead, 1)
    })()
    t.is(fdsOn(f), 1)
    for (let i = 0; i < 50 && fdsOn(f) > 0; i++) {
      ;(globalThis as any).gc()
      await new Promise((r) => setTimeout(r, 10))
    }
    t.is(fdsOn(f), 0, 'the fd of the collected handle was closed')
    await new Promise((r) => setImmediate(r))
    t.true(
      warnings.some((m) => /^Closing file descriptor \d+ on garbage collection$/.test(m)),
      warnings.join('; '),
    )
    // A handle closed by its owner is not closed again.
    const kept = await ring.fs.open(f)
    await kept.close()
    t.is(fdsOn(f), 0)
  } finally {
    process.off('warning', onWarning)
  }
})

each("readFile's buffer option (Node 24.18+: read into the caller's buffer) as the running node:fs/promises has it, path and FileHandle forms", async (t, { ring, dir }) => {
  const f = join(dir, 'data')
  const empty = join(dir, 'empty')
  nodeFs.writeFileSync(f, pattern(0, 3000))
  nodeFs.writeFileSync(empty, '')
  type Call = (fs: typeof nfs, share: (b: NodeJS.ArrayBufferView) => NodeJS.ArrayBufferView) => Promise<unknown>
  const calls: Record<string, Call> = {
    exact: (fs, share) => fs.readFile(f, { buffer: share(Buffer.alloc(3000)) } as any),
    larger: (fs, share) => fs.readFile(f, { buffer: share(Buffer.alloc(5000)) } as any),
    smaller: (fs, share) => fs.readFile(f, { buffer: share(Buffer.alloc(10)) } as any),
    typed: (fs, share) => fs.readFile(f, { buffer: share(new Uint16Array(2000)) } as any),
    fn: (fs, share) => fs.readFile(f, { buffer: (size: number) => share(Buffer.alloc(size + 1)), encoding: 'latin1' } as any),
    fnBad: (fs) => fs.readFile(f, { buffer: () => 'no' } as any),
    notAView: (fs) => fs.readFile(f, { buffer: new ArrayBuffer(8) } as any),
    viewAsOptions: (fs) => fs.readFile(f, new Uint8Array(4) as any),
    emptyFile: (fs, share) => fs.readFile(empty, { buffer: share(Buffer.alloc(0)) } as any),
    procTooSmall: (fs, share) => fs.readFile('/proc/self/cmdline', { buffer: share(Buffer.alloc(16)) } as any),
    handle: async (fs, share) => {
      const fh = await fs.open(f)
      try {
        return await fh.readFile({ buffer: share(Buffer.alloc(4000)), encoding: 'hex' } as any)
      } finally {
        await fh.close()
      }
    },
  }
  for (const [name, call] of Object.entries(calls)) {
    const outcome = async (fs: typeof nfs) => {
      const given: NodeJS.ArrayBufferView[] = []
      try {
        const v = await call(fs, (b) => (given.push(b), b))
        if (typeof v === 'string') return { v: v.length > 64 ? `${v.length} chars` : v }
        const b = v as Buffer
        return { bytes: Buffer.from(b).toString('hex').slice(0, 64), length: b.length, isBuffer: Buffer.isBuffer(b), intoGiven: given.some((g) => g.buffer === b.buffer) }
      } catch (e) {
        return { e: errorShape(e) }
      }
    }
    t.deepEqual(await outcome(ring.fs as unknown as typeof nfs), await outcome(nfs), name)
  }
})

each("a rejection's stack shows the caller's own async frames, as node:fs/promises' do", async (t, { ring, dir }) => {
  const missing = join(dir, 'missing', 'file')
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['stat', () => ring.fs.stat(missing)],
    ['readFile', () => ring.fs.readFile(missing)],
    ['readdir', () => ring.fs.readdir(missing)],
    ['open', () => ring.fs.open(missing)],
    ['unlink', () => ring.fs.unlink(missing)],
    ['writeFile', () => ring.fs.writeFile(missing, 'x')],
  ]
  for (const [name, call] of calls) {
    // A named async function that awaits the call: its frame must be in the error's stack.
    async function theCallersOwnFrame(): Promise<unknown> {
      return await call()
    }
    const e = await t.throwsAsync(theCallersOwnFrame(), { code: 'ENOENT' })
    t.regex(e?.stack ?? '', /at async theCallersOwnFrame /, name)
  }
  const fh = await ring.fs.open(join(dir, 'f'), 'w')
  await fh.close()
  async function afterClose(): Promise<unknown> {
    return await fh.stat()
  }
  const e = await t.throwsAsync(afterClose())
  t.regex(e?.stack ?? '', /at async afterClose /, 'a closed FileHandle')
})

// A file system that leaves d_type unknown (some FUSE and network ones): Node asks lstat for
// each such entry; uring's readdir then hands the whole directory to node:fs, whose answer it is.
test("readdir with an entry of unknown type gives node:fs readdir's answer", async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readdir } = require('../packages/uring/dist/readdir.js') as { readdir: (b: unknown, p: unknown, o: unknown) => Promise<unknown> }
  const dir = nodeFs.mkdtempSync(join(tmpdir(), 'uring-unknown-'))
  try {
    nodeFs.writeFileSync(join(dir, 'f'), 'x')
    nodeFs.mkdirSync(join(dir, 'd'))
    const delegated: string[] = []
    const backend = {
      // What the executor would hand over from such a file system: the names, types unknown (0).
      scandir: () => Promise.resolve([['d', 'f'], Uint8Array.of(0, 0)]),
      delegate: (name: string, call: () => Promise<unknown>) => (delegated.push(name), call()),
    }
    const got = (await readdir(backend, dir, { withFileTypes: true })) as nodeFs.Dirent[]
    t.deepEqual(delegated, ['readdir'])
    t.deepEqual(
      got.map((e) => [e.name, e.isFile(), e.isDirectory()]),
      [
        ['d', false, true],
        ['f', true, false],
      ],
    )
    t.true(got[0] instanceof nodeFs.Dirent)
    // Without withFileTypes the types are not needed: the executor's names are the answer.
    t.deepEqual(await readdir(backend, dir, undefined), ['d', 'f'])
    t.deepEqual(delegated, ['readdir'])
  } finally {
    nodeFs.rmSync(dir, { recursive: true, force: true })
  }
})
