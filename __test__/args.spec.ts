// Arguments as node:fs/promises reads them (issue #16, "Trust"): options that are null or
// undefined take Node's defaults (and falsy flags/encodings where Node uses `||`), files are
// created with 0o666 & ~umask unless a mode is given, and integers are checked by Node's rules
// before they reach node:fs or the kernel. Where Node's own checks let a value through that its
// C++ then asserts on (aborting the process: modes of 2**31 and more, -0 flags, modes and write
// lengths, read lengths past int32), uring rejects with ERR_OUT_OF_RANGE; those calls run in a
// child process, so that an abort fails the test rather than the runner.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as nfs from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { BACKENDS, caught, each, errorShape, inChild } from './helpers'

type Case = [string, (fs: any, p: string) => Promise<unknown>]

/** What `f` did in a fresh folder: its value or its error, with the folder's name taken out. */
async function outcome(fs: any, sub: string, f: Case[1]): Promise<unknown> {
  rmSync(sub, { recursive: true, force: true })
  mkdirSync(sub)
  let r: Record<string, unknown>
  try {
    r = { value: await f(fs, join(sub, 'f')) }
  } catch (e) {
    r = { error: errorShape(e) }
  }
  return JSON.parse(JSON.stringify(r).replaceAll(sub, '<dir>'))
}

/** Runs every case on ring.fs and on node:fs/promises; the outcomes must be equal. */
async function sameAsNode(t: any, ringFs: unknown, dir: string, cases: Case[]): Promise<void> {
  for (const [name, f] of cases) {
    const theirs = await outcome(nfs, join(dir, 'node'), f)
    const mine = await outcome(ringFs, join(dir, 'uring'), f)
    t.deepEqual(mine, theirs, name)
  }
}

const read = (p: string) => readFileSync(p, 'latin1')
const perms = (p: string) => (statSync(p).mode & 0o777).toString(8)
/** Runs `f` on a handle of `p` (opened with `flags`), closing it after. */
async function withHandle(fs: any, p: string, flags: string, f: (fh: any) => Promise<unknown>): Promise<unknown> {
  const fh = await fs.open(p, flags)
  try {
    return await f(fh)
  } finally {
    await fh.close()
  }
}

each('null and undefined options take the defaults node:fs/promises gives them (flags, encodings, modes)', async (t, { ring, dir }) => {
  const cases: Case[] = [
    ['appendFile flag null appends', async (fs, p) => (writeFileSync(p, 'x'), await fs.appendFile(p, 'y', { flag: null }), read(p))],
    ['appendFile flag undefined appends', async (fs, p) => (writeFileSync(p, 'x'), await fs.appendFile(p, 'y', { flag: undefined }), read(p))],
    ['appendFile flag 0 and "" append (Node: flag || "a")', async (fs, p) => (writeFileSync(p, 'x'), await fs.appendFile(p, 'y', { flag: 0 }), await fs.appendFile(p, 'z', { flag: '' }), read(p))],
    ['appendFile on a FileHandle with flag null', async (fs, p) => (writeFileSync(p, 'x'), await withHandle(fs, p, 'a', (fh) => fh.appendFile('y', { flag: null, encoding: null })), read(p))],
    ['writeFile flag null / 0 truncates', async (fs, p) => (writeFileSync(p, 'xyz'), await fs.writeFile(p, 'a', { flag: null }), await fs.writeFile(p, 'b', { flag: 0 }), read(p))],
    [
      'readFile flag null / "" / false reads',
      async (fs, p) => (
        writeFileSync(p, 'abc'), [await fs.readFile(p, { flag: null, encoding: 'utf8' }), await fs.readFile(p, { flag: '', encoding: 'utf8' }), await fs.readFile(p, { flag: false, encoding: 'utf8' })]
      ),
    ],
    [
      'encoding null / "" / 0 / false: Buffers and utf8',
      async (fs, p) => {
        const got = []
        for (const encoding of [null, undefined, '', 0, false]) {
          await fs.writeFile(p, 'aGk=', { encoding })
          got.push(await fs.readFile(p, { encoding }), await withHandle(fs, p, 'r', (fh) => fh.readFile({ encoding })))
          await withHandle(fs, p, 'w', (fh) => fh.writeFile('aGk=', { encoding }))
          got.push(read(p))
        }
        return got
      },
    ],
    [
      "writeFile of a string with encoding 'buffer' rejects before touching the file",
      async (fs, p) => {
        writeFileSync(p, 'keep')
        const e = await fs.writeFile(p, 'x', { encoding: 'buffer' }).catch((e: any) => e.code)
        const e2 = await fs.appendFile(`${p}2`, ['x'], { encoding: 'buffer' }).catch((e: any) => e.code)
        return [e, e2, read(p)]
      },
    ],
    [
      'writeFile/appendFile mode null, flush null / undefined',
      async (fs, p) => (await fs.writeFile(p, 'a', { mode: null, flush: null }), await fs.appendFile(p, 'b', { mode: null, flush: undefined }), [read(p), perms(p)]),
    ],
    ['open flags null, mode null', async (fs, p) => (await (await fs.open(p, 'w', null)).close(), await (await fs.open(p, null, null)).close(), perms(p))],
    [
      'mkdir options null / false / 0 / { mode: null }',
      async (fs, p) => {
        await fs.mkdir(`${p}1`, null)
        await fs.mkdir(`${p}2`, false)
        await fs.mkdir(`${p}3`, 0)
        await fs.mkdir(`${p}4`, { mode: null })
        return [perms(`${p}1`), perms(`${p}2`), perms(`${p}3`), perms(`${p}4`), await fs.mkdir(`${p}5`, { recursive: null }).catch((e: any) => e.code)]
      },
    ],
    ['read({ buffer: null }) is not the default buffer', async (fs, p) => (writeFileSync(p, 'abcdef'), withHandle(fs, p, 'r', (fh) => fh.read({ buffer: null, length: 3 })))],
    [
      'read options null take the defaults',
      async (fs, p) => (
        writeFileSync(p, 'abcdef'),
        withHandle(fs, p, 'r', async (fh) => [
          (await fh.read({ buffer: Buffer.alloc(4), offset: null, length: null, position: null })).bytesRead,
          (await fh.read(Buffer.alloc(4), null, null, null)).bytesRead,
        ])
      ),
    ],
    [
      'read of length -0 resolves to bytesRead -0, as Node',
      async (fs, p) => (writeFileSync(p, 'abc'), withHandle(fs, p, 'r', async (fh) => Object.is((await fh.read(Buffer.alloc(4), 0, -0, 0)).bytesRead, -0))),
    ],
    [
      'write(buffer, null, 2, 5): null is an empty options object (the whole buffer, current position)',
      async (fs, p) => withHandle(fs, p, 'w', async (fh) => [(await fh.write(Buffer.from('abcd'), null, 2, 5)).bytesWritten, read(p)]),
    ],
    ['write string with position and encoding null', async (fs, p) => withHandle(fs, p, 'w', async (fh) => [(await fh.write('ab', null, null)).bytesWritten, read(p)])],
  ]
  await sameAsNode(t, ring.fs, dir, cases)
})

each('write, writev and readv positions as node:fs/promises reads them (NaN, 1.5, 2**53, -5, -0, bigint)', async (t, { ring, dir }) => {
  const cases: Case[] = []
  for (const [label, pos] of [
    ['NaN', NaN],
    ['1.5', 1.5],
    ['2**53', 2 ** 53],
    ['-5', -5],
    ['-1', -1],
    ['-0', -0],
    ['Infinity', Infinity],
    ['7', 7],
    ['3n', 3n],
    ["'3'", '3'],
  ] as const) {
    // After a 5-byte read, the current position is 5: where the bytes land shows the position used.
    const at =
      (f: (fh: any) => Promise<unknown>): Case[1] =>
      async (fs, p) => (writeFileSync(p, '0123456789'), withHandle(fs, p, 'r+', async (fh) => (await fh.read(Buffer.alloc(5), 0, 5, null), [await f(fh), read(p)])))
    cases.push(
      [`write buffer at ${label}`, at(async (fh) => (await fh.write(Buffer.from('ab'), 0, 2, pos)).bytesWritten)],
      [`write string at ${label}`, at(async (fh) => (await fh.write('ab', pos)).bytesWritten)],
      [`writev at ${label}`, at(async (fh) => (await fh.writev([Buffer.from('ab')], pos)).bytesWritten)],
      [`readv at ${label}`, at(async (fh) => (await fh.readv([Buffer.alloc(2)], pos)).buffers[0].toString())],
      [`read at ${label}`, at(async (fh) => (await fh.read(Buffer.alloc(2), 0, 2, pos)).buffer.toString())],
    )
  }
  await sameAsNode(t, ring.fs, dir, cases)
})

each('integer checks node:fs/promises makes itself: same errors (modes, flags, lengths, offsets, uid/gid)', async (t, { ring, dir }) => {
  const cases: Case[] = [
    [
      'open mode 2**32 / -1 / 1.5 / "9" / true',
      async (fs, p) =>
        Promise.all(
          [2 ** 32, -1, 1.5, '9', true].map((m) =>
            fs.open(p, 'w', m).then(
              (h: any) => h.close(),
              (e: any) => errorShape(e),
            ),
          ),
        ),
    ],
    [
      'open flags 2**31 / 1.5 / -2**31-1',
      async (fs, p) =>
        Promise.all(
          [2 ** 31, 1.5, -(2 ** 31) - 1].map((f) =>
            fs.open(p, f).then(
              (h: any) => h.close(),
              (e: any) => errorShape(e),
            ),
          ),
        ),
    ],
    ['chmod 2**32 / -1 / "8"', async (fs, p) => (writeFileSync(p, ''), Promise.all([2 ** 32, -1, '8'].map((m) => fs.chmod(p, m).catch((e: any) => errorShape(e)))))],
    ['mkdir mode 2**32 / NaN', async (fs, p) => Promise.all([2 ** 32, NaN].map((m) => fs.mkdir(p, m).catch((e: any) => errorShape(e))))],
    ['writeFile mode -1', async (fs, p) => fs.writeFile(p, 'x', { mode: -1 })],
    [
      'FileHandle chmod / chown / truncate ranges',
      async (fs, p) => (
        writeFileSync(p, 'abc'),
        withHandle(fs, p, 'r+', (fh) =>
          Promise.all(
            [fh.chmod(2 ** 32), fh.chmod(1.5), fh.chown(2 ** 32, 0), fh.chown(-2, 0), fh.chown(0, 1.5), fh.truncate(NaN), fh.truncate(2 ** 53)].map((x: Promise<unknown>) =>
              x.then(
                () => 'ok',
                (e: any) => errorShape(e),
              ),
            ),
          ),
        )
      ),
    ],
    [
      'chown / lchown uid and gid ranges',
      async (fs, p) => (writeFileSync(p, ''), Promise.all([fs.chown(p, 2 ** 32, 0), fs.chown(p, 0, -2), fs.lchown(p, NaN, 0)].map((x: Promise<unknown>) => x.catch((e: any) => errorShape(e))))),
    ],
    [
      'FileHandle read / write offsets and lengths',
      async (fs, p) => (
        writeFileSync(p, 'abcdef'),
        withHandle(fs, p, 'r+', (fh) =>
          Promise.all(
            [
              fh.read(Buffer.alloc(4), -0, 2, 0),
              fh.read(Buffer.alloc(4), 1.5, 1, 0),
              fh.read(Buffer.alloc(4), 0, 5, 0),
              fh.write(Buffer.alloc(4), -0, 2, 0),
              fh.write(Buffer.alloc(4), 1.5),
              fh.write(Buffer.alloc(4), 0, -1),
              fh.write(Buffer.alloc(4), 5),
            ].map((x: Promise<any>) =>
              x.then(
                (r) => r.bytesRead ?? r.bytesWritten,
                (e: any) => errorShape(e),
              ),
            ),
          ),
        )
      ),
    ],
  ]
  await sameAsNode(t, ring.fs, dir, cases)
})

each('streams: null options as Node reads them (highWaterMark, end, signal, autoClose, flush, encoding)', async (t, { ring, dir }) => {
  // The error a stream's constructor throws. (Node's half-built stream then throws a TypeError
  // from the handle's close, which uring does not copy: that is not compared.)
  const construct = async (fs: any, p: string, flags: string, make: (fh: any) => unknown) => {
    const fh = await fs.open(p, flags)
    try {
      make(fh)
      return 'made'
    } catch (e) {
      return errorShape(e)
    } finally {
      try {
        await fh.close()
      } catch {}
    }
  }
  const collect = async (s: any) => {
    const sizes = []
    for await (const c of s) sizes.push(c.length)
    return sizes
  }
  const cases: Case[] = [
    [
      'ReadStream highWaterMark null: the Readable default',
      async (fs, p) => (
        writeFileSync(p, 'x'.repeat(40000)),
        withHandle(fs, p, 'r', async (fh) => {
          const s = fh.createReadStream({ highWaterMark: null, autoClose: false })
          return [s.readableHighWaterMark, await collect(s)]
        })
      ),
    ],
    ['ReadStream signal null is checked', async (fs, p) => (writeFileSync(p, 'abc'), construct(fs, p, 'r', (fh) => fh.createReadStream({ signal: null })))],
    [
      'ReadStream autoClose null / 0 closes the handle (only false keeps it)',
      async (fs, p) => {
        writeFileSync(p, 'abc')
        const fds = []
        for (const autoClose of [null, 0, false, undefined]) {
          const fh = await fs.open(p)
          await collect(fh.createReadStream({ autoClose }))
          await new Promise((r) => setTimeout(r, 10))
          fds.push(fh.fd === -1)
          await fh.close()
        }
        return fds
      },
    ],
    [
      'WriteStream flush null / encoding "" / highWaterMark null',
      async (fs, p) => {
        const s = (await fs.open(p, 'w')).createWriteStream({ flush: null, encoding: '', highWaterMark: null })
        s.end('aGk=')
        await new Promise((r) => s.on('close', r))
        return [s.writableHighWaterMark, read(p)]
      },
    ],
    ['WriteStream signal null is checked', async (fs, p) => construct(fs, p, 'w', (fh) => fh.createWriteStream({ signal: null }))],
  ]
  await sameAsNode(t, ring.fs, dir, cases)
  // end: null is checked as Node checks it (not taken as Infinity). Not run on Node, whose
  // half-built stream keeps a reference to the handle, so that it cannot be closed.
  writeFileSync(join(dir, 'e'), 'abc')
  const fh = await ring.fs.open(join(dir, 'e'))
  try {
    t.like(errorShape(await caught(() => fh.createReadStream({ end: null as any }))), { code: 'ERR_INVALID_ARG_TYPE', message: 'The "end" argument must be of type number. Received null' })
  } finally {
    await fh.close()
  }
})

each('files are created with 0o666 & ~umask unless a mode is given, by every path that can create one', async (t, { ring, dir }) => {
  const want = (0o666 & ~process.umask()).toString(8)
  // node:fs/promises first, where it has the function.
  await sameAsNode(t, ring.fs, dir, [
    [
      'readFile flag w+ / a+ / wx+ / numeric O_CREAT|O_RDWR',
      async (fs, p) => {
        const out = []
        for (const flag of ['w+', 'a+', 'wx+', nfs.constants.O_CREAT | nfs.constants.O_RDWR]) {
          rmSync(p, { force: true })
          await fs.readFile(p, { flag })
          out.push(perms(p))
        }
        return out
      },
    ],
    [
      'writeFile / appendFile / open / FileHandle.writeFile',
      async (fs, p) => {
        await fs.writeFile(`${p}1`, 'x')
        await fs.appendFile(`${p}2`, 'x')
        await (await fs.open(`${p}3`, 'w')).close()
        await withHandle(fs, `${p}4`, 'a+', (fh) => fh.writeFile('x'))
        await fs.writeFile(`${p}5`, 'x', { mode: 0o640 })
        return [1, 2, 3, 4, 5].map((i) => perms(`${p}${i}`))
      },
    ],
  ])
  // The Ring's own ops: no Node equivalent, so against the rule itself.
  const p = (n: string) => join(dir, n)
  await ring.closeFd(await ring.openat(p('openat'), 'w'))
  await ring.closeFd(await ring.openat(p('openat-null'), 'w', null as any))
  const results = await ring.batch([
    { op: 'open', path: p('batch-open'), flags: 'w' },
    { op: 'writeFile', path: p('batch-writeFile'), data: 'x' },
    { op: 'readFile', path: p('batch-readFile'), flag: 'w+' },
    { op: 'writeFile', path: p('batch-writeFile-mode'), data: 'x', mode: 0o600 },
  ])
  t.true(
    results.every((r) => r.status === 'fulfilled'),
    JSON.stringify(results),
  )
  await ring.closeFd((results[0] as PromiseFulfilledResult<number>).value)
  const chain = await ring.link([{ op: 'readFile', path: p('link-readFile'), flag: 'a+' }, { op: 'nop' }])
  t.is(chain[0].status, 'fulfilled')
  for (const n of ['openat', 'openat-null', 'batch-open', 'batch-writeFile', 'batch-readFile', 'link-readFile']) t.is(perms(p(n)), want, n)
  t.is(perms(p('batch-writeFile-mode')), (0o600 & ~process.umask()).toString(8))
})

const NODE_MAJOR = Number(process.versions.node.split('.')[0])
/** The cases whose -0 is a mode or flags (not a write length). */
const MODE_MINUS_ZERO =
  /^(ring\.openat\(p, -0\)|ring\.mkdir\(p, -0\)|ring\.batch\(\[\{ op: 'open', flags: -0|fs\.chmod\(p, -0\)|fh\.chmod\(-0\)|fs\.open\(p, -0\)|fs\.open\(p, 'w', -0\)|fs\.mkdir\(p, \{ recursive: true, mode: -0|fs\.appendFile\(p, 'x', \{ mode: -0)/

// Calls node:fs itself aborts on (or, on io_uring, that reached the kernel unchecked): each must
// reject with a RangeError ERR_OUT_OF_RANGE, on both backends, without the process dying.
const OUT_OF_RANGE: Array<[string, string]> = [
  ['ring.openat(p, -0)', `require('fs').writeFileSync(dir + '/f', ''); return ring.openat(dir + '/f', -0)`],
  ["ring.openat(p, 'w', 2**32-1)", `return ring.openat(dir + '/f', 'w', 2 ** 32 - 1)`],
  ["ring.openat(p, 'w', '37777777777')", `return ring.openat(dir + '/f', 'w', '37777777777')`],
  ['ring.mkdir(p, 2**32-1)', `return ring.mkdir(dir + '/d', 2 ** 32 - 1)`],
  ['ring.mkdir(p, -0)', `return ring.mkdir(dir + '/d', -0)`],
  ["ring.batch([{ op: 'mkdir', mode: 2**32-1 }])", `return ring.batch([{ op: 'mkdir', path: dir + '/d', mode: 2 ** 32 - 1 }])`],
  ["ring.batch([{ op: 'open', flags: -0 }])", `return ring.batch([{ op: 'open', path: dir + '/f', flags: -0 }])`],
  ["ring.batch([{ op: 'writeFile', mode: 2**31 }])", `return ring.batch([{ op: 'writeFile', path: dir + '/f', data: 'x', mode: 2 ** 31 }])`],
  ["ring.batch([{ op: 'write', length: -0 }])", `const fd = await ring.openat(dir + '/f', 'w'); return ring.batch([{ op: 'write', fd, buffer: Buffer.alloc(4), length: -0 }])`],
  ['fs.chmod(p, 2**31)', `require('fs').writeFileSync(dir + '/f', ''); return fs.chmod(dir + '/f', 2 ** 31)`],
  ['fs.chmod(p, -0)', `require('fs').writeFileSync(dir + '/f', ''); return fs.chmod(dir + '/f', -0)`],
  ['fh.chmod(2**32-1)', `const fh = await fs.open(dir + '/f', 'w'); try { return await fh.chmod(2 ** 32 - 1) } finally { await fh.close() }`],
  ['fh.chmod(-0)', `const fh = await fs.open(dir + '/f', 'w'); try { return await fh.chmod(-0) } finally { await fh.close() }`],
  ["fs.open(p, 'r', 2**31)", `return (await fs.open(dir + '/f', 'r', 2 ** 31)).fd`],
  ['fs.open(p, -0)', `require('fs').writeFileSync(dir + '/f', ''); return (await fs.open(dir + '/f', -0)).fd`],
  ["fs.open(p, 'w', -0)", `return (await fs.open(dir + '/f', 'w', -0)).fd`],
  ['fs.mkdir(p, 2**31)', `return fs.mkdir(dir + '/d', 2 ** 31)`],
  ['fs.mkdir(p, { recursive: true, mode: -0 })', `return fs.mkdir(dir + '/d/e', { recursive: true, mode: -0 })`],
  ["fs.writeFile(p, 'x', { mode: 2**31 })", `return fs.writeFile(dir + '/f', 'x', { mode: 2 ** 31 })`],
  ["fs.appendFile(p, 'x', { mode: -0 })", `return fs.appendFile(dir + '/f', 'x', { mode: -0 })`],
  ['fh.write(buf, 15, -0)', `const fh = await fs.open(dir + '/f', 'w'); try { return (await fh.write(Buffer.alloc(16), 15, -0)).bytesWritten } finally { await fh.close() }`],
  [
    'fh.read(buf, 0, 2**31, 0)',
    `require('fs').writeFileSync(dir + '/f', 'abc'); const fh = await fs.open(dir + '/f'); try { return (await fh.read(new Uint8Array(2 ** 31), 0, 2 ** 31, 0)).bytesRead } finally { await fh.close() }`,
  ],
  [
    'ring.read(fd, a 2 GiB buffer)',
    `require('fs').writeFileSync(dir + '/f', 'abc'); const fd = await ring.openat(dir + '/f'); try { return await ring.read(fd, new Uint8Array(2 ** 31), 0) } finally { await ring.closeFd(fd) }`,
  ],
]

for (const backend of BACKENDS) {
  for (const [name, body] of OUT_OF_RANGE) {
    test(`[${backend}] ${name} rejects with ERR_OUT_OF_RANGE instead of aborting`, (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'uring-args-'))
      try {
        const r = inChild(backend, dir, body)
        const where = `exit ${r.status}, signal ${r.signal}, outcome ${JSON.stringify(r.value ?? r.error)}, stderr: ${r.stderr.slice(-600)}`
        t.is(r.signal, null, where)
        t.is(r.status, 0, where)
        // Node 24 takes a mode or flags of -0 as 0 (20 and 22 abort): there, so does uring.
        if (NODE_MAJOR >= 24 && MODE_MINUS_ZERO.test(name)) t.is(r.error, undefined, where)
        else t.like(r.error, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, where)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
}
