'use strict'
// The fuzzer's case generator (issue #16): case N of seed S is one call — a node:fs/promises
// function, a FileHandle method, a Ring low-level op or a ring.batch() — whose arguments are JS
// source text drawn from pools of hostile values. The source is both what replay prints and what
// runs: `materialize` compiles it once and evaluates it afresh for each side (each side gets its
// own Symbols, views, signals and paths into its own scratch folder). No dependencies. Also here:
// what a Ring case means on node:fs (Node's equivalents of the Ring's ops and of a batch's).
//
// Helpers the source may use (see `helpers`):
//   P(name)            absolute path of `name` in the case's scratch folder (P('nul') has a \0,
//                      P('long') a 300-byte component, P('verylong') is past PATH_MAX)
//   B(name), U(name)   the same path as a Buffer / a file: URL
//   V(type, n, kind)   a fresh view of n elements filled with 'A', 'B', ...: type buf | u8 | i8 |
//                      u16 | f64 | dv; kind plain | off (byteOffset 3, or one element) | shared | detached | resizable
//   sig(kind)          AbortSignal.abort() ('aborted') or a live signal ('live')
//   it(kind, chunks)   a generator ('sync') or async generator ('async') yielding `chunks`
//   fd                 (Ring ops, batches) the fd the case opened

const fs = require('node:fs')
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')

/** mulberry32: a 32-bit state, good enough to spread choices; returns floats in [0, 1). */
function mulberry32(a) {
  return function next() {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The generator of case `index` of `seed`: independent of every other case, so each replays alone. */
function rng(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35) >>> 0
  const next = mulberry32(h ^ (h >>> 13))
  return { next, int: (n) => Math.floor(next() * n), chance: (p) => next() < p, pick: (a) => a[Math.floor(next() * a.length)] }
}

// ---- Pools (source text) ----

const HOSTILE = [
  '-0',
  '0',
  '1',
  '-1',
  '1.5',
  'NaN',
  'Infinity',
  '-Infinity',
  '2**31-1',
  '2**31',
  '2**32-1',
  '2**32',
  '2**53',
  '-(2**53)',
  '0n',
  '-1n',
  '2n**63n',
  '2n**64n',
  'null',
  'undefined',
  'true',
  'false',
  "''",
  "'r'",
  "'w+'",
  "'a'",
  "'xyz'",
  "'0o777'",
  "'777'",
  '{}',
  '[]',
  '[1]',
  '() => {}',
  "Symbol('s')",
  "V('u8', 4)",
  "V('u8', 0, 'detached')",
  "P('file')",
]
/** Names of the initial tree (run.cjs builds it) and of paths that are not in it. */
const NAMES = ['file', 'file', 'empty', 'big', 'dir', 'dir/inner', 'emptydir', 'link', 'dangling', 'missing', 'missing/sub', 'file/sub', 'new', 'new', 'dir/new', 'nul', 'long', 'verylong']
const FLAGS = [
  "'r'",
  "'r+'",
  "'w'",
  "'w+'",
  "'a'",
  "'a+'",
  "'wx'",
  "'wx+'",
  "'ax'",
  "'as+'",
  "'rs+'",
  "'sr'",
  "'xa+'",
  "'rw'",
  "'R'",
  '0',
  '1',
  '2',
  '66',
  '65',
  '577',
  '1089',
  '194',
  '65536',
  '2**31-1',
  '-1',
]
const MODES = ['0o644', '0o600', '0o755', '0o777', '0o4755', '0o1777', '0', '0o444', "'644'", "'0755'", "'0o644'", "'9'", "''", '438', '0o7777', '0o17777']
const ENCODINGS = ["'utf8'", "'utf-8'", "'UTF8'", "'hex'", "'base64'", "'base64url'", "'latin1'", "'binary'", "'ascii'", "'ucs2'", "'utf16le'", "'buffer'", "'xyz'", "''"]
const INTS = ['0', '1', '2', '3', '4', '5', '8', '11', '12', '16', '40', '100', '-1', '1.5', '-0', '2**31', '2**31-1', '2**32']
const POSITIONS = ['0', '1', '5', '11', '12', '40', '100', '-1', 'null', 'undefined', '-2', '1.5', 'NaN', '2**53', '2**53-1', '2**31', '3n', '-1n', '2n**63n-1n', '2n**63n', '-0']
const VIEW_TYPES = ['buf', 'buf', 'u8', 'u8', 'i8', 'u16', 'f64', 'dv']
const VIEW_SIZES = [0, 1, 2, 4, 4, 8, 16, 16, 64]
const VIEW_KINDS = ['plain', 'plain', 'plain', 'plain', 'off', 'shared', 'detached', 'resizable']
const STRINGS = ["'hello'", "''", "'ünï'", "'aGk='", "'616263'", "'x'.repeat(100)", "'\\u{1F600}'"]
const TIMES = ['0', '1', '1.5', '-1', 'NaN', 'Infinity', '2**31', '2**32', '1e12', "'123'", "'abc'", 'new Date(0)', 'new Date(NaN)', '0n', 'null', '1700000000']
const BOOLS = ['true', 'false', 'true', 'false']

// ---- Slot generators: each returns source text ----

function slots(r) {
  const hostile = () => r.pick(HOSTILE)
  /** A plausible value from `f` (probability `p`), else a hostile one. */
  const or = (f, p = 0.75) => (r.chance(p) ? f() : hostile())
  const path = (names = NAMES) => {
    const name = r.pick(names)
    const forms = ['nul', 'long', 'verylong'].includes(name) ? ['P', 'P', 'B'] : ['P', 'P', 'P', 'P', 'P', 'B', 'U']
    const u = r.int(40)
    if (u === 0) return "new URL('http://x/y')"
    if (u === 1) return "B('b\\xffn')"
    if (u === 2) return "'relative-' + 'x'" // relative to the cwd: run.cjs sets it to the scratch folder
    return `${r.pick(forms)}('${name}')`
  }
  const view = (types = VIEW_TYPES, sizes = VIEW_SIZES) => {
    const kind = r.pick(VIEW_KINDS)
    return kind === 'plain' ? `V('${r.pick(types)}', ${r.pick(sizes)})` : `V('${r.pick(types)}', ${r.pick(sizes)}, '${kind}')`
  }
  const views = () => {
    if (r.chance(0.1)) return or(() => r.pick(['[]', "[V('u8', 4), 'x']", '[null]']), 0.5)
    const n = 1 + r.int(3)
    return `[${Array.from({ length: n }, () => view()).join(', ')}]`
  }
  const data = () => {
    const u = r.int(10)
    if (u < 4) return r.pick(STRINGS)
    if (u < 7) return view()
    if (u === 7) return r.pick(["['a', 'b']", "[V('buf', 4), 'c']", "it('sync', ['x', 'y'])", "it('async', ['x', V('u8', 2)])", "it('sync', [1])", '[1, 2]'])
    return hostile()
  }
  const time = () => or(() => r.pick(TIMES), 0.85)
  const values = {
    flag: () => r.pick(FLAGS),
    mode: () => r.pick(MODES),
    encoding: () => r.pick(ENCODINGS),
    signal: () => r.pick(["sig('aborted')", "sig('live')", "sig('live')"]),
    offset: () => r.pick(INTS),
    length: () => r.pick(INTS),
    position: () => r.pick(POSITIONS),
    buffer: () => view(),
    recursive: () => r.pick(BOOLS),
    withFileTypes: () => r.pick(BOOLS),
    bigint: () => r.pick(BOOLS),
    force: () => r.pick(BOOLS),
    flush: () => r.pick(BOOLS),
    maxRetries: () => r.pick(['0', '1', '-1']),
    retryDelay: () => r.pick(['0', '1', '-1']),
  }
  /** An options object with some of `keys` (plausible values, some hostile), or sometimes something else. */
  const opts = (keys, alt) => {
    const u = r.int(12)
    if (u === 0) return hostile()
    if (u === 1 && alt) return alt()
    if (u === 2) return '{}'
    const picked = keys.filter(() => r.chance(0.5))
    if (picked.length === 0) picked.push(r.pick(keys))
    return `{ ${picked.map((k) => `${k}: ${or(values[k], 0.8)}`).join(', ')} }`
  }
  return { hostile, or, path, view, views, data, time, opts, values, int: () => or(() => r.pick(INTS)), pos: () => or(() => r.pick(POSITIONS)) }
}

// ---- What each callable takes ----

function fsArgs(fn, s, r) {
  const path = () => s.or(s.path, 0.9)
  const enc = () => s.values.encoding()
  switch (fn) {
    case 'open':
      return [path(), s.or(s.values.flag), s.or(s.values.mode)]
    case 'readFile':
      return [path(), s.opts(['encoding', 'flag', 'signal'], enc)]
    case 'writeFile':
    case 'appendFile':
      return [path(), s.data(), s.opts(['encoding', 'mode', 'flag', 'signal', 'flush'], enc)]
    case 'stat':
    case 'lstat':
      return [path(), s.opts(['bigint'])]
    case 'mkdir':
      return [path(), s.opts(['recursive', 'mode'], s.values.mode)]
    case 'rmdir':
      return [path(), s.opts(['recursive', 'maxRetries', 'retryDelay'])]
    case 'rm':
      return [path(), s.opts(['recursive', 'force', 'maxRetries', 'retryDelay'])]
    case 'unlink':
      return [path()]
    case 'rename':
    case 'link':
      return [path(), path()]
    case 'copyFile':
      return [path(), path(), s.or(() => r.pick(['0', '1', '2', '3', '4', '7', '8']))]
    case 'truncate':
      return [path(), s.int()]
    case 'chmod':
      return [path(), s.or(s.values.mode)]
    case 'access':
      return [path(), s.or(() => r.pick(['0', '1', '2', '4', '6', '7', '8']))]
    case 'symlink':
      return [s.or(() => r.pick(["'file'", "'missing'", "'../x'", "'dir'", "P('file')", "B('file')"])), path(), s.or(() => r.pick(["'file'", "'dir'", "'junction'", 'null', 'undefined']))]
    case 'readdir':
      return [path(), s.opts(['encoding', 'withFileTypes', 'recursive'], enc)]
    case 'realpath':
      return [path(), s.opts(['encoding'], enc)]
    case 'mkdtemp':
      return [s.or(() => r.pick(["P('tmp-')", "P('dir/tmp-')", "P('missing/tmp-')", "B('tmp-')", "P('file/tmp-')", "P('nul')", "U('tmp-')"])), s.opts(['encoding'], enc)]
    case 'utimes':
      return [path(), s.time(), s.time()]
  }
  throw new Error(`no arguments for ${fn}`)
}

function fhArgs(fn, s, r) {
  const enc = () => s.values.encoding()
  switch (fn) {
    case 'read': {
      const form = r.int(6)
      if (form === 0) return []
      if (form === 1) return [s.or(s.view, 0.9)]
      if (form <= 3) return [s.or(s.view, 0.9), s.int(), s.int(), s.pos()]
      if (form === 4) return [s.or(s.view, 0.9), s.opts(['offset', 'length', 'position'])]
      return [s.opts(['buffer', 'offset', 'length', 'position'])]
    }
    case 'write': {
      const form = r.int(6)
      if (form === 0) return [s.or(s.view, 0.9)]
      if (form <= 2) return [s.or(s.view, 0.9), s.int(), s.int(), s.pos()]
      if (form === 3) return [s.or(s.view, 0.9), s.opts(['offset', 'length', 'position'])]
      if (form === 4) return [s.or(() => r.pick(STRINGS), 0.9), s.pos(), s.or(enc)]
      return [s.data()]
    }
    case 'readv':
    case 'writev':
      return [s.views(), s.pos()]
    case 'truncate':
      return [s.int()]
    case 'chmod':
      return [s.or(s.values.mode)]
    case 'stat':
      return [s.opts(['bigint'])]
    case 'sync':
    case 'datasync':
      return []
    case 'readFile':
      return [s.opts(['encoding', 'signal', 'flag'], enc)]
    case 'writeFile':
    case 'appendFile':
      return [s.data(), s.opts(['encoding', 'mode', 'flag', 'signal', 'flush'], enc)]
    case 'utimes':
      return [s.time(), s.time()]
  }
  throw new Error(`no arguments for FileHandle.${fn}`)
}

const RING_OPTS = ['', '', '', '', ', {}', ", { signal: sig('aborted') }", ", { signal: sig('live') }", ', undefined']
const fdArg = (s, r) => (r.chance(0.85) ? 'fd' : s.or(() => r.pick(['fd + 1000', '-1', '2**31', '1.5', "'3'"]), 0.6))

function ringArgs(fn, s, r) {
  switch (fn) {
    case 'read':
    case 'write':
      return [fdArg(s, r), s.or(s.view, 0.9), s.pos()]
    case 'readv':
    case 'writev':
      return [fdArg(s, r), s.views(), s.pos()]
    case 'openat':
      return [s.or(s.path, 0.9), s.or(s.values.flag), s.or(s.values.mode)]
    case 'mkdir':
      return [s.or(s.path, 0.9), s.or(s.values.mode)]
  }
  throw new Error(`no arguments for ring.${fn}`)
}

// A batch's ops run in any order: they must not depend on each other. Each path op takes its
// paths from a group no other op of the batch touches; the fd (opened on `file`) counts as a
// touch of the `file` group, and a batch has at most one op on it.
const GROUPS = [['file', 'link', 'file/sub'], ['big'], ['empty'], ['dir', 'dir/inner'], ['emptydir'], ['missing', 'missing/sub', 'dangling'], ['new'], ['new2'], ['new3']]
const BATCH_OPS = {
  read: ['fd', 'buffer', 'offset', 'length', 'position'],
  write: ['fd', 'buffer', 'offset', 'length', 'position'],
  readv: ['fd', 'buffers', 'position'],
  writev: ['fd', 'buffers', 'position'],
  fsync: ['fd'],
  fdatasync: ['fd'],
  fstat: ['fd'],
  ftruncate: ['fd', 'length'],
  close: ['fd'],
  open: ['path', 'flags', 'mode'],
  stat: ['path'],
  lstat: ['path'],
  unlink: ['path'],
  rmdir: ['path'],
  mkdir: ['path', 'mode'],
  rename: ['oldPath', 'newPath'],
  symlink: ['target', 'path'],
  link: ['existingPath', 'newPath'],
  readFile: ['path', 'flag'],
  writeFile: ['path', 'data', 'flag', 'mode', 'encoding'],
  nop: [],
}

function batchArgs(s, r) {
  if (r.chance(0.04)) return [s.hostile()]
  const free = GROUPS.map((g) => g.slice())
  const takeGroup = () => (free.length ? free.splice(r.int(free.length), 1)[0] : ['new9'])
  let fdUsed = false
  const ops = []
  for (let n = 1 + r.int(3), i = 0; i < n; i++) {
    if (r.chance(0.03)) {
      ops.push(r.pick(['null', '5', '[]', "{ op: 'xyz' }", '{}']))
      continue
    }
    let name = r.pick(Object.keys(BATCH_OPS))
    if (BATCH_OPS[name][0] === 'fd') {
      const g = free.findIndex((x) => x[0] === 'file')
      if (fdUsed || g < 0) name = r.pick(['stat', 'mkdir', 'nop', 'writeFile', 'open'])
      else {
        fdUsed = true
        free.splice(g, 1)
      }
    }
    const group = BATCH_OPS[name].some((f) => /path|target/i.test(f)) ? takeGroup() : null
    const field = {
      fd: () => fdArg(s, r),
      buffer: () => s.or(s.view, 0.85),
      buffers: () => s.views(),
      offset: () => s.int(),
      length: () => s.int(),
      position: () => s.pos(),
      flags: () => s.or(s.values.flag),
      flag: () => s.or(s.values.flag),
      mode: () => s.or(s.values.mode),
      data: () => s.data(),
      encoding: () => s.or(s.values.encoding),
      target: () => r.pick(["'file'", "'missing'", `P('${r.pick(group)}')`]),
    }
    const parts = [`op: '${name}'`]
    for (const f of BATCH_OPS[name]) {
      const required = f === 'fd' || /path/i.test(f) || f === 'buffer' || f === 'buffers' || f === 'data'
      if (!required && r.chance(0.5)) continue
      if (required && r.chance(0.03)) continue // a missing required field
      const v = field[f] ? field[f]() : s.or(() => (r.chance(0.8) ? `P('${r.pick(group)}')` : s.path(['nul', 'long', 'missing/sub'])), 0.93)
      parts.push(`${f}: ${v}`)
    }
    ops.push(`{ ${parts.join(', ')} }`)
  }
  return [`[${ops.join(', ')}]`]
}

// ---- Cases ----

const FS_FNS = [
  'open',
  'readFile',
  'writeFile',
  'appendFile',
  'stat',
  'lstat',
  'mkdir',
  'rmdir',
  'rm',
  'unlink',
  'rename',
  'copyFile',
  'truncate',
  'chmod',
  'access',
  'symlink',
  'link',
  'readdir',
  'realpath',
  'mkdtemp',
  'utimes',
]
const FH_FNS = ['read', 'read', 'read', 'write', 'write', 'write', 'readv', 'writev', 'truncate', 'chmod', 'stat', 'sync', 'datasync', 'readFile', 'writeFile', 'appendFile', 'utimes']
const RING_FNS = ['read', 'write', 'readv', 'writev', 'openat', 'mkdir']
const OPEN_PATHS = ['file', 'file', 'file', 'empty', 'big', 'dir']
const OPEN_FLAGS = ['r', 'r', 'r+', 'r+', 'w', 'w+', 'a', 'a+']

/**
 * Case `index` of `seed`: { seed, index, kind: 'fs' | 'fh' | 'ring' | 'batch', fn, args (source
 * of the argument list), open: [name, flags] (fh and ring cases), closed (fh: closed first) }.
 */
function makeCase(seed, index) {
  const r = rng(seed, index)
  const s = slots(r)
  const u = r.next()
  const c = { seed, index }
  let args
  if (u < 0.5) {
    c.kind = 'fs'
    c.fn = r.pick(FS_FNS)
    args = fsArgs(c.fn, s, r)
  } else if (u < 0.8) {
    c.kind = 'fh'
    c.fn = r.pick(FH_FNS)
    c.open = [r.pick(OPEN_PATHS), r.pick(OPEN_FLAGS)]
    c.closed = r.chance(0.04)
    args = fhArgs(c.fn, s, r)
  } else if (u < 0.92) {
    c.kind = 'ring'
    c.fn = r.pick(RING_FNS)
    c.open = [r.pick(OPEN_PATHS.slice(0, 5)), r.pick(OPEN_FLAGS)]
    args = ringArgs(c.fn, s, r)
  } else {
    c.kind = 'batch'
    c.fn = 'batch'
    c.open = ['file', r.pick(['r', 'r+', 'r+', 'a+', 'w+'])]
    args = batchArgs(s, r)
  }
  // Fewer arguments (the defaults) or one too many, now and then.
  if (args.length > 1 && r.chance(0.15)) args = args.slice(0, r.int(args.length))
  else if (r.chance(0.04) && c.kind !== 'ring' && c.kind !== 'batch') args = [...args, s.hostile()]
  c.args = args.join(', ')
  if (c.kind === 'ring' && args.length > 0) c.args += r.pick(RING_OPTS)
  if (c.kind === 'batch' && args.length > 0) c.args += r.pick(RING_OPTS)
  return c
}

/** The call as code (what replay prints). */
function describe(c) {
  const open = c.open ? `[${c.open[0]} opened '${c.open[1]}'${c.closed ? ', then closed' : ''}] ` : ''
  if (c.kind === 'fs') return `fs.${c.fn}(${c.args})`
  if (c.kind === 'fh') return `${open}fh.${c.fn}(${c.args})`
  return `${open}ring.${c.fn}(${c.args})`
}

// ---- Values ----

const compiled = new Map()
/** The case's arguments, evaluated afresh with `h` (helpers bound to one scratch folder). */
function materialize(c, h) {
  let f = compiled.get(c.args)
  if (!f) compiled.set(c.args, (f = new Function('P', 'B', 'U', 'V', 'sig', 'it', 'fd', `'use strict'; return [${c.args}]`)))
  return f(h.P, h.B, h.U, h.V, h.sig, h.it, h.fd)
}

const CTORS = { buf: Buffer, u8: Uint8Array, i8: Int8Array, u16: Uint16Array, f64: Float64Array, dv: DataView }

/** The helpers of `materialize`, for the scratch folder `dir`. */
function helpers(dir, fd) {
  const P = (name) => join(dir, { nul: 'fi\0le', long: 'a'.repeat(300), verylong: `${'d/'.repeat(2100)}x` }[name] ?? name)
  const B = (name) => (name === 'b\xffn' ? Buffer.concat([Buffer.from(`${dir}/b`), Buffer.from([0xff]), Buffer.from('n')]) : Buffer.from(P(name)))
  const U = (name) => pathToFileURL(P(name))
  const V = (type, n, kind = 'plain') => {
    const C = CTORS[type]
    const size = C === DataView || C === Buffer ? 1 : C.BYTES_PER_ELEMENT
    const bytes = n * size
    const at = kind === 'off' ? (size === 1 ? 3 : size) : 0
    const ab = kind === 'shared' ? new SharedArrayBuffer(bytes) : kind === 'resizable' ? new ArrayBuffer(bytes, { maxByteLength: bytes + 16 }) : new ArrayBuffer(bytes + 2 * at)
    new Uint8Array(ab).forEach((_, i, a) => (a[i] = 0x41 + ((((i - at) % 26) + 26) % 26)))
    const v =
      C === Buffer
        ? Buffer.from(ab, at, kind === 'resizable' ? undefined : bytes)
        : C === DataView
          ? new DataView(ab, at, kind === 'resizable' ? undefined : bytes)
          : kind === 'resizable'
            ? new C(ab)
            : new C(ab, at, n)
    if (kind === 'detached') structuredClone(ab, { transfer: [ab] })
    return v
  }
  const sig = (kind) => (kind === 'aborted' ? AbortSignal.abort() : new AbortController().signal)
  const it = (kind, chunks) =>
    kind === 'async'
      ? (async function* () {
          yield* chunks
        })()
      : (function* () {
          yield* chunks
        })()
  return { P, B, U, V, sig, it, fd }
}

/** A view's byteLength; 0 once detached (a detached DataView's getter throws). */
const byteLength = (v) => {
  try {
    return v.byteLength
  } catch {
    return 0
  }
}

// ---- What a Ring case means on node:fs: Node's equivalents of the Ring's ops and a batch's ----

const ARG_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_URL_SCHEME', 'ERR_INVALID_FILE_URL_PATH', 'ERR_INVALID_FILE_URL_HOST', 'ERR_INVALID_URL'])

const cb = (f) => new Promise((resolve, reject) => f((e, v) => (e ? reject(e) : resolve(v))))
const abortError = () => Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
/** Ring ops take views only: a string gets the type error Node gives a value it cannot write. */
const viewOnly = (b) => (typeof b === 'string' ? Symbol('not a view') : b)
const len = (b, off = 0) => (ArrayBuffer.isView(b) ? byteLength(b) - off : undefined)
/** fs.promises.open (whose mode is never taken for a callback, as fs.open's would be): the fd; the handle is closed after the case. */
const openFd = async (p, flags, mode, n) => (await fs.promises.open(p, flags, mode).then((h) => (n.handles.push(h), h))).fd

const NODE_RING = {
  read: (n, fd, b, pos) => cb((k) => fs.read(fd, b, 0, len(b), pos, k)),
  write: (n, fd, b, pos) => cb((k) => fs.write(fd, viewOnly(b), 0, len(b), pos, k)),
  readv: (n, fd, bs, pos) => cb((k) => fs.readv(fd, bs, pos, k)),
  writev: (n, fd, bs, pos) => cb((k) => fs.writev(fd, bs, pos, k)),
  openat: (n, p, flags, mode) => openFd(p, flags, mode, n),
  mkdir: (n, p, mode) => fs.promises.mkdir(p, { mode }),
}
const NODE_OPS = {
  read: (o) => cb((k) => fs.read(o.fd, o.buffer, o.offset ?? 0, o.length ?? len(o.buffer, o.offset ?? 0), o.position ?? null, k)),
  write: (o) => cb((k) => fs.write(o.fd, viewOnly(o.buffer), o.offset ?? 0, o.length ?? len(o.buffer, o.offset ?? 0), o.position ?? null, k)),
  readv: (o) => cb((k) => fs.readv(o.fd, o.buffers, o.position ?? null, k)),
  writev: (o) => cb((k) => fs.writev(o.fd, o.buffers, o.position ?? null, k)),
  fsync: (o) => cb((k) => fs.fsync(o.fd, k)),
  fdatasync: (o) => cb((k) => fs.fdatasync(o.fd, k)),
  fstat: (o) => cb((k) => fs.fstat(o.fd, k)),
  ftruncate: async (o) => fs.ftruncateSync(o.fd, o.length ?? 0),
  close: (o) => cb((k) => fs.close(o.fd, k)),
  open: (o, n) => openFd(o.path, o.flags ?? 'r', o.mode ?? 0o666, n),
  stat: (o) => cb((k) => fs.stat(o.path, k)),
  lstat: (o) => cb((k) => fs.lstat(o.path, k)),
  unlink: (o) => cb((k) => fs.unlink(o.path, k)),
  rmdir: (o) => cb((k) => fs.rmdir(o.path, k)),
  mkdir: (o) => fs.promises.mkdir(o.path, { mode: o.mode }),
  rename: (o) => cb((k) => fs.rename(o.oldPath, o.newPath, k)),
  symlink: (o) => cb((k) => fs.symlink(o.target, o.path, k)),
  link: (o) => cb((k) => fs.link(o.existingPath, o.newPath, k)),
  readFile: (o) => fs.promises.readFile(o.path, { flag: o.flag }),
  // Strings and views only: anything else gets the type error Node gives a value it cannot write.
  writeFile: (o) => fs.promises.writeFile(o.path, typeof o.data === 'string' || ArrayBuffer.isView(o.data) ? o.data : Symbol('x'), { flag: o.flag, mode: o.mode, encoding: o.encoding }),
  nop: async () => 0,
}

/** A rejection of a call that starts nothing on uring's side (arguments, an aborted signal): compared with the folder and views as they were. */
const nothingDone = (e) => Object.assign(e, { nothingDone: true })

/** ring.batch() on node:fs: the ops one after the other; an argument error rejects the whole call. */
async function nodeBatch(n, ops, options) {
  const typeError = (code, m) => nothingDone(Object.assign(new TypeError(m), { code }))
  if (!Array.isArray(ops)) throw typeError('ERR_INVALID_ARG_TYPE', 'ops')
  const results = []
  for (const o of ops) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw typeError('ERR_INVALID_ARG_TYPE', 'ops[i]')
    if (typeof o.op !== 'string' || !Object.hasOwn(NODE_OPS, o.op)) throw typeError('ERR_INVALID_ARG_VALUE', 'ops[i].op')
    const r = await NODE_OPS[o.op](o, n).then(
      (value) => ({ status: 'fulfilled', value }),
      (reason) => ({ status: 'rejected', reason }),
    )
    if (r.status === 'rejected' && (ARG_CODES.has(r.reason?.code) || r.reason?.code === 'ERR_UNKNOWN_ENCODING')) throw nothingDone(r.reason)
    results.push(r)
  }
  if (options?.signal?.aborted) throw nothingDone(abortError())
  return results
}

module.exports = { makeCase, describe, materialize, helpers, rng, byteLength, NODE_RING, nodeBatch, nothingDone, abortError, ARG_CODES }
