// Scenario bodies of the differential suite. Each runs unchanged against node:fs/promises and
// against uring/fs; the records (record.ts) and the folder trees they leave must be equal.
// Bodies use only what node:fs/promises offers, through `run.fs`.
import { constants as C } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Run } from './record'

/** Bytes whose value at file offset `i` is known. */
function pattern(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 2654435761) >>> 24
  return b
}

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = []
  for await (const c of stream) chunks.push(c)
  return chunks
}

const HALF_BUILT_STREAM = 'node:fs throws a TypeError from inside its half-built stream; uring throws the argument error'

export const scenarios: Record<string, (run: Run) => Promise<void>> = {
  async 'readFile, writeFile, appendFile: encodings, flags, data kinds, failures'({ fs, dir, step }) {
    const f = join(dir, 'a.txt')
    await step('write string', () => fs.writeFile(f, 'héllo wörld'))
    await step('read buffer', () => fs.readFile(f))
    for (const enc of ['utf8', 'latin1', 'base64', 'hex', 'ascii', 'ucs2', 'base64url', 'buffer'] as const) {
      await step(`read ${enc}`, () => fs.readFile(f, enc as BufferEncoding))
      await step(`read {encoding: ${enc}}`, () => fs.readFile(f, { encoding: enc as BufferEncoding }))
    }
    await step('read bad encoding', () => fs.readFile(f, 'nope' as BufferEncoding))
    await step('write base64', () => fs.writeFile(f, 'aGk=', 'base64'))
    await step('append buffer', () => fs.appendFile(f, Buffer.from(' there')))
    await step('append Uint16Array', () => fs.appendFile(f, new Uint16Array([0x4142, 0x4344])))
    await step('append DataView', () => fs.appendFile(f, new DataView(new ArrayBuffer(3))))
    await step('append iterable', () => fs.appendFile(f, ['x', Buffer.from('y')] as any))
    await step('append async iterable', () =>
      fs.appendFile(
        f,
        (async function* () {
          yield 'z'
          yield Buffer.from('!')
        })() as any,
      ),
    )
    await step('append number', () => fs.appendFile(f, 42 as any))
    await step('append hex', () => fs.appendFile(f, '414243', { encoding: 'hex' }))
    await step('read back', () => fs.readFile(f, 'latin1'))
    await step('write flag wx existing', () => fs.writeFile(f, 'x', { flag: 'wx' }))
    await step('write flag wx new', () => fs.writeFile(join(dir, 'new'), 'x', { flag: 'wx', mode: 0o600 }))
    await step('write numeric flags', () => fs.writeFile(join(dir, 'num'), 'n', { flag: C.O_WRONLY | C.O_CREAT | C.O_TRUNC }))
    await step('write flag a+', () => fs.writeFile(join(dir, 'num'), 'm', { flag: 'a+' }))
    await step('write bad flag', () => fs.writeFile(join(dir, 'num'), 'm', { flag: 'bogus' }))
    await step('write bad mode', () => fs.writeFile(join(dir, 'num'), 'm', { mode: 'rwx' as any }))
    await step('read missing', () => fs.readFile(join(dir, 'missing')))
    await step('read a directory', () => fs.readFile(dir))
    await step('read through a file (ENOTDIR)', () => fs.readFile(join(f, 'x')))
    await step('write into missing dir', () => fs.writeFile(join(dir, 'no', 'x'), 'x'))
    await step('write a directory', () => fs.writeFile(dir, 'x'))
    await step('NUL in path', () => fs.readFile(join(dir, 'a\0b')))
    await step('NUL in Buffer path', () => fs.writeFile(Buffer.from('a\0b'), 'x'))
    await step('path as URL', () => fs.readFile(pathToFileURL(f), 'latin1'))
    await step('path as Buffer', () => fs.readFile(Buffer.from(f), 'latin1'))
    await step('path of wrong type', () => fs.readFile(42 as any))
    await step('options of wrong type', () => fs.readFile(f, 42 as any))
    await step('data of wrong type', () => fs.writeFile(f, { a: 1 } as any))
    await step('procfs file reported as size 0', async () => (await fs.readFile('/proc/self/mounts', 'utf8')).length > 0)
    const ac = new AbortController()
    ac.abort()
    await step('read aborted', () => fs.readFile(f, { signal: ac.signal }))
    await step('write aborted', () => fs.writeFile(f, 'y', { signal: ac.signal }))
    await step('signal of wrong type', () => fs.readFile(f, { signal: 1 as any }))
    const big = pattern(0, 8 * 1024 * 1024 + 1234)
    await step('write 8 MiB', () => fs.writeFile(join(dir, 'big'), big))
    await step('append to 8 MiB', () => fs.appendFile(join(dir, 'big'), big.subarray(0, 4097)))
    await step('read 8 MiB', () => fs.readFile(join(dir, 'big')))
  },

  async 'open and FileHandle: positioned and sequential I/O, ranges, closed and read-only handles'({ fs, dir, step, note }) {
    const f = join(dir, 'h.bin')
    await fs.writeFile(f, pattern(0, 100000))
    const fh = await fs.open(f, 'r+')
    note('fd is a number', typeof fh.fd === 'number' && fh.fd > 2)
    await step('read positioned', () => fh.read(Buffer.alloc(100), 0, 100, 500))
    await step('read sequential 1', () => fh.read(Buffer.alloc(10), 0, 10, null))
    await step('read sequential 2', () => fh.read(Buffer.alloc(10), 0, 10, -1))
    await step('read options form', () => fh.read({ buffer: Buffer.alloc(20), position: 99990 }))
    await step('read buffer+options form', () => fh.read(Buffer.alloc(20), { offset: 5, length: 5, position: 7 }))
    await step('read default buffer', async () => (await fh.read()).bytesRead)
    await step('read past end', () => fh.read(Buffer.alloc(10), 0, 10, 200000))
    await step('read length 0', () => fh.read(Buffer.alloc(10), 0, 0, 0))
    await step('read offset out of range', () => fh.read(Buffer.alloc(10), 11, 1, 0))
    await step('read length out of range', () => fh.read(Buffer.alloc(10), 0, 11, 0))
    await step('read negative offset', () => fh.read(Buffer.alloc(10), -1, 1, 0))
    // (A fractional length is left out: Node 20's and 24's own FileHandle.read abort the process on it.)
    await step('read empty buffer', () => fh.read(Buffer.alloc(0), 0, 1, 0))
    await step('read bad buffer', () => fh.read('nope' as any, 0, 1, 0))
    await step('read into Float64Array', () => fh.read(new Float64Array(4), 0, 32, 8))
    await step('write positioned', () => fh.write(Buffer.from('POSITIONED'), 0, 10, 1000))
    await step('write string at position', () => fh.write('str', 2000, 'utf8'))
    await step('write string hex', () => fh.write('414243', 3000, 'hex'))
    await step('write options form', () => fh.write(Buffer.from('opts'), { offset: 1, length: 2, position: 4000 }))
    await step('write out of range', () => fh.write(Buffer.from('abc'), 2, 5, 0))
    await step('write bad data', () => fh.write(12 as any))
    await step('writev', () => fh.writev([Buffer.from('v1'), Buffer.from('v2')], 5000))
    await step('readv', () => fh.readv([Buffer.alloc(3), Buffer.alloc(4)], 4999))
    await step('writev of 1500 buffers', () =>
      fh.writev(
        Array.from({ length: 1500 }, (_, i) => pattern(i * 7, 7)),
        20000,
      ),
    )
    await step('readv of 1500 buffers', () =>
      fh.readv(
        Array.from({ length: 1500 }, () => Buffer.alloc(5)),
        20000,
      ),
    )
    await step('readv bad buffers', () => fh.readv(['x'] as any))
    await step('stat(null)', () => fh.stat(null as any))
    await step('readv of views of no bytes', () => fh.readv([Buffer.alloc(0), new Uint8Array(0)], 0))
    await step('readv with a detached DataView', () => {
      const gone = new ArrayBuffer(8)
      structuredClone(gone, { transfer: [gone] })
      return fh.readv([new DataView(gone), Buffer.alloc(2)], 0)
    })
    await step('readv of views of no bytes on a directory', async () => {
      const dh = await fs.open(dir, 'r')
      try {
        return await dh.readv([Buffer.alloc(0)])
      } finally {
        await dh.close()
      }
    })
    // Concurrent positioned writes land where they were aimed, whatever order they complete in.
    await step('64 concurrent positioned writes', () => Promise.all(Array.from({ length: 64 }, (_, i) => fh.write(pattern(i * 1000, 1000), 0, 1000, 10000 + i * 1000).then((r) => r.bytesWritten))))
    await step('stat', () => fh.stat())
    await step('stat bigint', () => fh.stat({ bigint: true }))
    await step('truncate 5000', () => fh.truncate(5000))
    await step('truncate negative', () => fh.truncate(-5))
    await step('truncate extends', () => fh.truncate(6000))
    await step('truncate bad len', () => fh.truncate('1' as any))
    await step('size after', async () => (await fh.stat()).size)
    await step('sync', () => fh.sync())
    await step('datasync', () => fh.datasync())
    await step('chmod', () => fh.chmod(0o640))
    await step('chmod bad', () => fh.chmod('z' as any))
    await step('chown to self', () => fh.chown(process.getuid!(), process.getgid!()))
    await step('utimes', () => fh.utimes(1_000_000, new Date(2_000_000_000)))
    await step('mtime after utimes', async () => (await fh.stat()).mtimeMs)
    await step('handle writeFile', () => fh.writeFile('handle data'))
    await step('handle appendFile', () => fh.appendFile(' more'))
    await step('handle readFile at end', () => fh.readFile('utf8'))
    await step('handle readFile from 0 after positioned read', async () => {
      await fh.read(Buffer.alloc(1), 0, 1, null)
      return fh.readFile()
    })
    await step('close', () => fh.close())
    note('fd after close', fh.fd)
    await step('close twice', () => fh.close())
    await step('read after close', () => fh.read(Buffer.alloc(1), 0, 1, 0))
    await step('write after close', () => fh.write(Buffer.alloc(1)))
    await step('stat after close', () => fh.stat())
    await step('stat(null) after close', () => fh.stat(null as any))
    await step('readFile after close', () => fh.readFile())
    await step('truncate after close', () => fh.truncate(0))
    await step('chmod after close', () => fh.chmod(0o600))
    const ro = await fs.open(f, 'r')
    await step('write on read-only', () => ro.write(Buffer.from('x'), 0, 1, 0))
    await step('truncate read-only', () => ro.truncate(0))
    await step('writeFile read-only', () => ro.writeFile('x'))
    await step('dispose', () => ro[Symbol.asyncDispose]())
    const wo = await fs.open(f, 'w')
    await step('read on write-only', () => wo.read(Buffer.alloc(1), 0, 1, 0))
    await wo.close()
    const ap = await fs.open(f, 'a')
    await step('append mode ignores position', () => ap.write(Buffer.from('END'), 0, 3, 0))
    await ap.close()
    await step('open missing', () => fs.open(join(dir, 'missing')))
    await step('open wx existing', () => fs.open(f, 'wx'))
    await step('open numeric flags', async () => (await fs.open(join(dir, 'n'), C.O_CREAT | C.O_RDWR, 0o604)).close())
    await step('open bad flags', () => fs.open(f, 'rw'))
    await step('open bad mode', () => fs.open(f, 'r', -1))
    await step('open directory for writing', () => fs.open(dir, 'w'))
    await step('open O_DIRECTORY on file', () => fs.open(f, C.O_RDONLY | C.O_DIRECTORY))
  },

  async 'stat, lstat, access, chmod, chown, utimes, statfs'({ fs, dir, step }) {
    const f = join(dir, 'f')
    await fs.writeFile(f, 'data')
    await fs.symlink('f', join(dir, 'l'))
    await fs.symlink('missing', join(dir, 'dangling'))
    await fs.mkdir(join(dir, 'd'))
    for (const p of ['f', 'l', 'dangling', 'd', 'missing', 'f/x']) {
      await step(`stat ${p}`, () => fs.stat(join(dir, p)))
      await step(`lstat ${p}`, () => fs.lstat(join(dir, p)))
      await step(`stat bigint ${p}`, () => fs.stat(join(dir, p), { bigint: true }))
      await step(`lstat bigint ${p}`, () => fs.lstat(join(dir, p), { bigint: true }))
      await step(`access ${p}`, () => fs.access(join(dir, p)))
      await step(`access W_OK ${p}`, () => fs.access(join(dir, p), C.W_OK))
    }
    await step('stat NUL', () => fs.stat(join(dir, 'f\0')))
    await step('stat number', () => fs.stat(1 as any))
    await step('stat /dev/null', async () => (await fs.stat('/dev/null')).isCharacterDevice())
    await step('access bad mode', () => fs.access(f, 99))
    await step('chmod', () => fs.chmod(f, 0o600))
    await step('chmod string mode', () => fs.chmod(f, '644'))
    await step('chmod missing', () => fs.chmod(join(dir, 'missing'), 0o600))
    await step('chmod bad mode', () => fs.chmod(f, 'abc'))
    await step('lchmod', () => fs.lchmod(join(dir, 'l'), 0o600))
    await step('chown', () => fs.chown(f, process.getuid!(), process.getgid!()))
    await step('chown missing', () => fs.chown(join(dir, 'missing'), 0, 0))
    await step('lchown', () => fs.lchown(join(dir, 'l'), process.getuid!(), process.getgid!()))
    await step('utimes', () => fs.utimes(f, 1_000_000, 2_000_000))
    await step('mtime', async () => (await fs.stat(f)).mtimeMs)
    await step('utimes Date and string', () => fs.utimes(f, new Date(3_000_000_000), '4000000'))
    await step('mtime 2', async () => (await fs.stat(f)).mtimeMs)
    await step('utimes bad', () => fs.utimes(f, 'x' as any, 1))
    await step('lutimes', () => fs.lutimes(join(dir, 'l'), 5, 6))
    await step('lutimes mtime', async () => (await fs.lstat(join(dir, 'l'))).mtimeMs)
    await step('utimes missing', () => fs.utimes(join(dir, 'missing'), 1, 1))
    await step('statfs', () => fs.statfs(dir))
    await step('statfs bigint', async () => typeof (await fs.statfs(dir, { bigint: true })).bsize)
    await step('statfs missing', () => fs.statfs(join(dir, 'missing')))
  },

  async 'directories: mkdir, rmdir, readdir, opendir, mkdtemp, rm, cp, rename, unlink'({ fs, dir, step, note }) {
    const d = (...p: string[]) => join(dir, ...p)
    await step('mkdir', () => fs.mkdir(d('a')))
    await step('mkdir existing', () => fs.mkdir(d('a')))
    await step('mkdir missing parent', () => fs.mkdir(d('x', 'y')))
    await step('mkdir recursive', () => fs.mkdir(d('a', 'b', 'c'), { recursive: true }))
    await step('mkdir recursive existing', () => fs.mkdir(d('a', 'b'), { recursive: true }))
    await step('mkdir mode', () => fs.mkdir(d('m'), 0o700))
    await step('mkdir mode string', () => fs.mkdir(d('m2'), { mode: '750' }))
    await fs.writeFile(d('a', 'file'), 'x')
    await step('mkdir through a file', () => fs.mkdir(d('a', 'file', 'z')))
    await step('mkdir recursive through a file', () => fs.mkdir(d('a', 'file', 'z', 'w'), { recursive: true }))
    await step('mkdir bad options', () => fs.mkdir(d('q'), { recursive: 'yes' as any }))
    // A dangling symlink as the path and as a parent: Node's mkdirp answers by what stat finds.
    await fs.symlink('nothing', d('dangling'))
    await step('mkdir recursive of a dangling symlink', () => fs.mkdir(d('dangling'), { recursive: true }))
    await step('mkdir recursive through a dangling symlink', () => fs.mkdir(d('dangling', 'p', 'q'), { recursive: true }))
    await step('mkdir recursive of a file', () => fs.mkdir(d('a', 'file'), { recursive: true }))
    await fs.writeFile(d('a', 'b', 'f1'), '1')
    await fs.symlink('../file', d('a', 'b', 'ln'))
    await step('readdir', async () => (await fs.readdir(d('a'))).sort())
    await step('readdir withFileTypes', async () => (await fs.readdir(d('a', 'b'), { withFileTypes: true })).sort((x, y) => x.name.localeCompare(y.name)))
    await step('readdir recursive', async () => (await fs.readdir(d('a'), { recursive: true })).sort())
    await step('readdir buffer', async () => (await fs.readdir(d('a'), { encoding: 'buffer' })).map(String).sort())
    await step('readdir missing', () => fs.readdir(d('missing')))
    await step('readdir a file', () => fs.readdir(d('a', 'file')))
    await step('opendir', async () => {
      const names: string[] = []
      for await (const e of await fs.opendir(d('a', 'b'))) names.push(`${e.name}:${e.isDirectory()}`)
      return names.sort()
    })
    await step('opendir missing', () => fs.opendir(d('missing')))
    const tmp = (await step('mkdtemp', async () => {
      const p = await fs.mkdtemp(d('tmp-'))
      return /^.*\/tmp-[A-Za-z0-9]{6}$/.test(p)
    })) as boolean
    note('mkdtemp made a name', tmp)
    await step('mkdtemp missing parent', () => fs.mkdtemp(d('no', 'tmp-')))
    await step('rmdir not empty', () => fs.rmdir(d('a')))
    await step('rmdir a file', () => fs.rmdir(d('a', 'file')))
    await step('rmdir missing', () => fs.rmdir(d('missing')))
    await step('rmdir', () => fs.rmdir(d('m')))
    await step('unlink a directory', () => fs.unlink(d('m2')))
    await step('unlink missing', () => fs.unlink(d('missing')))
    await step('unlink', () => fs.unlink(d('a', 'b', 'f1')))
    await step('rename', () => fs.rename(d('a', 'file'), d('renamed')))
    await step('rename missing', () => fs.rename(d('missing'), d('x')))
    await step('rename dir over file', () => fs.rename(d('m2'), d('renamed')))
    await step('rename file over dir', () => fs.rename(d('renamed'), d('m2')))
    await step('rename dir into itself', () => fs.rename(d('a'), d('a', 'b', 'inside')))
    await fs.mkdir(d('full'))
    await fs.writeFile(d('full', 'x'), 'x')
    await step('rename over non-empty dir', () => fs.rename(d('m2'), d('full')))
    await step('cp recursive', () => fs.cp(d('a'), d('copy'), { recursive: true }))
    await step('cp dir without recursive', () => fs.cp(d('a'), d('copy2')))
    await step('cp file', () => fs.cp(d('renamed'), d('cpfile')))
    await step('rm file', () => fs.rm(d('cpfile')))
    await step('rm missing', () => fs.rm(d('missing')))
    await step('rm missing force', () => fs.rm(d('missing'), { force: true }))
    await step('rm dir', () => fs.rm(d('copy')))
    await step('rm dir recursive', () => fs.rm(d('copy'), { recursive: true }))
    await step('rm bad options', () => fs.rm(d('a'), { recursive: 1 as any }))
  },

  async 'readdir: order, types, encodings, options, paths'({ fs, dir, step }) {
    const d = (...p: string[]) => join(dir, ...p)
    await fs.mkdir(d('r', 'sub'), { recursive: true })
    for (const n of ['b', 'B', 'a', '_', '.hidden', '10', '9', 'Z', 'é', 'e', 'ü', '日本', 'x'.repeat(255), 'a b', 'a\\b']) await fs.writeFile(d('r', n), n)
    await fs.symlink('sub', d('r', 'link'))
    await fs.symlink('missing', d('r', 'dangling'))
    // A name that is not UTF-8 (strings show it with replacement characters).
    const odd = Buffer.concat([Buffer.from(`${d('r')}/`), Buffer.from([0xff, 0xfe, 0x41])])
    await fs.writeFile(odd, 'odd')
    await fs.mkdir(d('empty'))
    // Not sorted here: the order is Node's own (libuv's scandir sorts names byte by byte).
    await step('readdir', () => fs.readdir(d('r')))
    await step('withFileTypes', () => fs.readdir(d('r'), { withFileTypes: true }))
    await step('buffer', () => fs.readdir(d('r'), 'buffer'))
    await step('buffer withFileTypes', () => fs.readdir(d('r'), { encoding: 'buffer', withFileTypes: true }))
    for (const enc of ['utf8', 'utf-8', 'UTF8', 'latin1', 'hex', 'base64', 'ascii', 'ucs2', null, undefined])
      await step(`encoding ${enc}`, () => fs.readdir(d('r'), { encoding: enc as BufferEncoding }))
    await step('encoding string', () => fs.readdir(d('r'), 'latin1'))
    await step('bad encoding', () => fs.readdir(d('r'), { encoding: 'nope' as BufferEncoding }))
    await step('bad encoding string', () => fs.readdir(d('r'), 'nope' as BufferEncoding))
    await step('bad options', () => fs.readdir(d('r'), 42 as any))
    await step('withFileTypes not a boolean', () => fs.readdir(d('r'), { withFileTypes: 1 as any }))
    await step('recursive', () => fs.readdir(d('r'), { recursive: true }))
    await step('recursive withFileTypes', () => fs.readdir(d('r'), { recursive: true, withFileTypes: true }))
    await step('empty', () => fs.readdir(d('empty'), { withFileTypes: true }))
    await step('trailing slash', () => fs.readdir(`${d('r')}/`, { withFileTypes: true }))
    await step('dot segments', () => fs.readdir(d('r', 'sub', '..')))
    await step('Buffer path', () => fs.readdir(Buffer.from(d('r')), { withFileTypes: true }))
    await step('URL path', () => fs.readdir(pathToFileURL(d('r')), { withFileTypes: true }))
    await step('through a symlink', () => fs.readdir(d('r', 'link')))
    await step('dangling symlink', () => fs.readdir(d('r', 'dangling')))
    await step('missing', () => fs.readdir(d('missing')))
    await step('a file', () => fs.readdir(d('r', 'a')))
    await step('empty path', () => fs.readdir(''))
    await step('NUL in path', () => fs.readdir(d('r\0x')))
    await step('number path', () => fs.readdir(42 as any))
    await step('name too long', () => fs.readdir(d('r', 'n'.repeat(256))))
    await step('many at once', async () => (await Promise.all(Array.from({ length: 64 }, (_, i) => fs.readdir(i % 2 ? d('r') : d('r', 'sub'))))).map((l) => l.length))
    await fs.unlink(odd)
  },

  async 'paths of every length around 512 bytes, ending in characters of 1 to 4 bytes'({ fs, dir, step }) {
    // The binding copies a path through a 512-byte buffer first: a path that just fits, or just
    // does not, or whose last character would be cut, must still be the whole path.
    const deep = join(dir, 'd'.repeat(200), 'e'.repeat(200))
    await fs.mkdir(deep, { recursive: true })
    for (const ch of ['x', 'é', '日', '😀']) {
      for (let total = 498; total <= 518; total++) {
        const room = total - Buffer.byteLength(`${deep}/`) - Buffer.byteLength(ch)
        if (room < 1 || room > 200) continue
        const p = `${deep}/${'n'.repeat(room)}${ch}`
        await fs.writeFile(p, ch)
        await step(`${ch} ${total}: stat`, async () => (await fs.stat(p)).size)
        await step(`${ch} ${total}: readFile`, async () => String(await fs.readFile(p)))
      }
    }
  },

  async 'links: symlink, link, readlink, realpath, copyFile, truncate'({ fs, dir, step }) {
    const d = (...p: string[]) => join(dir, ...p)
    await fs.writeFile(d('t'), '0123456789')
    await step('symlink relative', () => fs.symlink('t', d('s')))
    await step('symlink absolute', () => fs.symlink(d('t'), d('abs')))
    await step('symlink existing', () => fs.symlink('t', d('s')))
    await step('symlink into missing dir', () => fs.symlink('t', d('no', 's')))
    await step('symlink type', () => fs.symlink('t', d('typed'), 'file'))
    await step('symlink bad type', () => fs.symlink('t', d('typed2'), 5 as any))
    await step('symlink NUL target', () => fs.symlink('t\0', d('nul')))
    await step('symlink URL', () => fs.symlink(pathToFileURL(d('t')), d('url')))
    await step('readlink', () => fs.readlink(d('s')))
    await step('readlink buffer', () => fs.readlink(d('s'), 'buffer'))
    await step('readlink a file', () => fs.readlink(d('t')))
    await step('realpath', () => fs.realpath(d('s')))
    await step('realpath missing', () => fs.realpath(d('missing')))
    await step('link', () => fs.link(d('t'), d('hard')))
    await step('nlink', async () => (await fs.stat(d('t'))).nlink)
    await step('link existing', () => fs.link(d('t'), d('hard')))
    await step('link missing', () => fs.link(d('missing'), d('hard2')))
    await step('link a directory', async () => {
      await fs.mkdir(d('dd'))
      return fs.link(d('dd'), d('dd2'))
    })
    await step('link bad path', () => fs.link(null as any, d('x')))
    await step('copyFile', () => fs.copyFile(d('t'), d('c')))
    await step('copyFile EXCL existing', () => fs.copyFile(d('t'), d('c'), C.COPYFILE_EXCL))
    await step('copyFile EXCL new', () => fs.copyFile(d('t'), d('c2'), C.COPYFILE_EXCL))
    await step('copyFile missing', () => fs.copyFile(d('missing'), d('c3')))
    await step('copyFile bad mode', () => fs.copyFile(d('t'), d('c4'), 99))
    await step('truncate', () => fs.truncate(d('c'), 4))
    await step('truncate default', () => fs.truncate(d('c2')))
    await step('truncate extend', () => fs.truncate(d('hard'), 20))
    await step('truncate negative', () => fs.truncate(d('c'), -1))
    await step('truncate missing', () => fs.truncate(d('missing'), 1))
    await step('truncate a directory', () => fs.truncate(dir, 1))
    await step('truncate bad len', () => fs.truncate(d('c'), 'x' as any))
  },

  async 'streams: createReadStream, createWriteStream, readLines, readableWebStream'({ fs, dir, step }) {
    const f = join(dir, 's.bin')
    await fs.writeFile(f, pattern(0, 300000))
    const open = () => fs.open(f)
    await step('read stream all', async () => collect((await open()).createReadStream()))
    await step('read stream range', async () => collect((await open()).createReadStream({ start: 1000, end: 70000, highWaterMark: 10000 })))
    await step('read stream start only', async () => collect((await open()).createReadStream({ start: 299990 })))
    await step('read stream end 0', async () => collect((await open()).createReadStream({ start: 0, end: 0 })))
    await step('read stream encoding', async () => (await collect((await open()).createReadStream({ encoding: 'hex', end: 99, highWaterMark: 16 }))).join(''))
    await step(
      'read stream start > end',
      async () => {
        const fh = await open()
        try {
          return fh.createReadStream({ start: 10, end: 5 })
        } finally {
          await fh.close()
        }
      },
      HALF_BUILT_STREAM,
    )
    await step(
      'read stream bad start',
      async () => {
        const fh = await open()
        try {
          return fh.createReadStream({ start: -1 })
        } finally {
          await fh.close()
        }
      },
      HALF_BUILT_STREAM,
    )
    await step('read stream autoClose closes the handle', async () => {
      const fh = await open()
      const s = fh.createReadStream()
      await collect(s)
      await new Promise((r) => (s.closed ? r(null) : s.once('close', r)))
      return [fh.fd, (s as any).bytesRead]
    })
    await step('read stream autoClose false keeps it open', async () => {
      const fh = await open()
      await collect(fh.createReadStream({ autoClose: false, start: 0, end: 9 }))
      const open_ = fh.fd > 0
      await fh.close()
      return open_
    })
    await step('read stream destroyed early', async () => {
      const fh = await open()
      const s = fh.createReadStream({ highWaterMark: 1024 })
      const first = await new Promise((r) => s.once('data', r))
      s.destroy()
      await new Promise((r) => s.once('close', r))
      return [first, fh.fd]
    })
    await step('read stream aborted', async () => {
      const ac = new AbortController()
      const fh = await open()
      const s = fh.createReadStream({ signal: ac.signal })
      ac.abort()
      return collect(s)
    })
    const w = join(dir, 'w.txt')
    await step('write stream', async () => {
      const s = (await fs.open(w, 'w')).createWriteStream()
      for (let i = 0; i < 2000; i++) s.write(`line ${i}\n`)
      s.write(Buffer.from('buffer line\r\n'))
      s.cork()
      s.write('corked 1\n')
      s.write('corked 2\n')
      s.uncork()
      await new Promise((r) => s.end('last', r))
      return (s as any).bytesWritten
    })
    await step('written', () => fs.readFile(w))
    await step('write stream start', async () => {
      const s = (await fs.open(w, 'r+')).createWriteStream({ start: 5, encoding: 'latin1' })
      s.write('ÿÿ')
      await new Promise((r) => s.end(r))
      return (s as any).bytesWritten
    })
    await step('written at start', () => fs.readFile(w, 'latin1'))
    await step('write stream flush', async () => {
      const s = (await fs.open(w, 'a')).createWriteStream({ flush: true })
      await new Promise((r) => s.end('flushed', r))
      return (s as any).bytesWritten
    })
    await step(
      'write stream bad flush',
      async () => {
        const fh = await fs.open(w, 'a')
        try {
          return fh.createWriteStream({ flush: 'yes' as any })
        } finally {
          await fh.close()
        }
      },
      HALF_BUILT_STREAM,
    )
    await step('write stream on read-only handle', async () => {
      const s = (await fs.open(w, 'r')).createWriteStream()
      return new Promise((resolve) => {
        s.on('error', (e) => resolve(e))
        s.write('x')
      })
    })
    await step('readLines', async () => collect((await fs.open(w)).readLines()))
    await step('readLines crlf and range', async () => collect((await fs.open(w)).readLines({ start: 20000 })))
    for (const options of [undefined, { type: 'bytes' as const }, { autoClose: true }, 5, { type: 'x' }]) {
      await step(`readableWebStream ${JSON.stringify(options)}`, async () => {
        const fh = await fs.open(f)
        const chunks = (await collect(fh.readableWebStream(options as any) as AsyncIterable<ArrayBuffer | Uint8Array>)) as Array<ArrayBuffer | Uint8Array>
        const closedByStream = fh.fd === -1
        await fh.close()
        return { classes: [...new Set(chunks.map((c) => c.constructor.name))], data: Buffer.concat(chunks.map((c) => new Uint8Array(c))), closedByStream }
      })
    }
    await step('readableWebStream after close', async () => {
      const fh = await fs.open(f)
      await fh.close()
      return fh.readableWebStream()
    })
    await step('readableWebStream twice', async () => {
      const fh = await fs.open(f)
      try {
        fh.readableWebStream()
        return fh.readableWebStream()
      } finally {
        await fh.close()
      }
    })
  },

  async 'watch and glob'({ fs, dir, step }) {
    await step('watch sees a new file', async () => {
      const ac = new AbortController()
      const it = fs.watch(dir, { signal: ac.signal })
      const first = (async () => {
        for await (const ev of it) {
          if (ev.filename === 'w') return ev.eventType
        }
      })()
      await new Promise((r) => setTimeout(r, 20))
      await fs.writeFile(join(dir, 'w'), 'x')
      const type = await first
      ac.abort()
      return type
    })
    const glob = (fs as any).glob
    await step('glob exists where node:fs/promises has it', () => typeof glob)
    if (glob) {
      await fs.writeFile(join(dir, 'g.txt'), '')
      await step('glob', async () => (await collect(glob('*.txt', { cwd: dir }))).sort())
    }
  },
}
