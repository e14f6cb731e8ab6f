// Whole-file reading and writing over a Backend, shared by FileHandle.readFile/writeFile and
// the path forms (fs-api.ts): the read loop (one buffer up to the size, then chunks until EOF,
// direct reads into buffers nobody else has), the write loop (short writes continue), the data
// forms writeFile takes.
import { constants } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { type Backend, type OpenedRead, type Owner, Shape } from './backend'
import { invalidArgType, invalidArgValue, NodeStyleError } from './errors'
import { nodeFsP } from './node-promises'
import { checkAborted, validateBuffer } from './validate'
import type { Encoding, NonSharedBuffer } from './fs-types'

/** Largest single read or write, as Node (2 GiB - 1). */
const kIoMaxLength = 2 ** 31 - 1

/** Read size when a file reports size 0 (procfs, pipes). */
const kReadFileUnknownBufferLength = 64 * 1024

/** Largest chunk `readFile` asks for at once. */
const kReadFileBufferLength = 512 * 1024

const kWriteFileMaxChunkSize = 512 * 1024

const S_IFMT = constants.S_IFMT

const S_IFREG = constants.S_IFREG

export function isArrayBufferView(v: unknown): v is NodeJS.ArrayBufferView {
  return ArrayBuffer.isView(v)
}

export function toBytes(v: NodeJS.ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

/** What the loops need of a FileHandle: the fd for each new op (counted, checked open), and the
 * Owner its ops release. */
export interface HandleLike extends Owner {
  _use(syscall: string): number
}

/** readFile's `buffer` option (a view, or a function of the size giving one): read into it. */
export type IntoBuffer = NodeJS.ArrayBufferView | ((size: number) => NodeJS.ArrayBufferView)

/**
 * The running Node's readFile takes `options.buffer` (Node 24.18+, nodejs/node#63634). Read off
 * its own readFile, which validates the option first, so that a backport is seen too.
 */
export const READ_INTO = /validateReadFileBufferOptions/.test(Function.prototype.toString.call(nodeFsP.readFile))

/**
 * The `buffer` option of readFile's `options` (as given, after getOptions checked them: Node reads
 * it off the object itself, whose prototype may hold it) where the running Node takes one, else
 * undefined, as Node ignores it; Node's check of it. A string, null or no options have none.
 */
export function intoBuffer(options: unknown): IntoBuffer | undefined {
  if (!READ_INTO || typeof options !== 'object' || options === null) return undefined
  const { buffer } = options as { buffer?: unknown }
  if (buffer !== undefined && typeof buffer !== 'function' && !isArrayBufferView(buffer)) {
    throw invalidArgType('options.buffer', ['Buffer', 'TypedArray', 'DataView', 'Function'], buffer)
  }
  return buffer as IntoBuffer | undefined
}

export async function readAll(fh: HandleLike, backend: Backend, encoding: Encoding, signal: AbortSignal | undefined, into?: IntoBuffer): Promise<string | NonSharedBuffer> {
  const st = await backend.fstat(fh._use('fstat'), fh, signal)
  const size = (st.mode & S_IFMT) === S_IFREG ? st.size : 0
  if (into !== undefined) {
    checkAborted(signal)
    if (size > kIoMaxLength) throw fileTooLarge(size)
    return readInto(fh, backend, size, into, encoding, signal)
  }
  // Into buffers readRest allocates and hands out only when done: direct reads (no copy).
  const read = (buf: Buffer, offset: number, length: number) => backend.read(fh._use('read'), buf, offset, length, -1, Shape.Number, fh, signal, true) as Promise<number>
  return decoded(await readRest(read, size, [], 0, signal), encoding)
}

/**
 * readFile into the caller's buffer, as Node's readFileHandleWithUserBuffer: at the current
 * position, up to the size (a regular file) or until the buffer is full; ERR_INVALID_ARG_VALUE
 * when the file is larger. The result is a Buffer over the caller's memory. The reads are not
 * direct: the kernel writes into memory of the op's own, copied out at completion (the caller
 * could detach or shrink the buffer meanwhile).
 */
async function readInto(fh: HandleLike, backend: Backend, size: number, into: IntoBuffer, encoding: Encoding, signal: AbortSignal | undefined): Promise<string | NonSharedBuffer> {
  const name = typeof into === 'function' ? 'options.buffer().byteLength' : 'options.buffer.byteLength'
  let view = into
  if (typeof view === 'function') {
    view = view(size)
    validateBuffer(view, 'options.buffer()')
  }
  const buffer = Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength)
  if (size > buffer.byteLength) throw invalidArgValue(name, buffer.byteLength, `is smaller than the file size of ${size} bytes`)
  const read = (offset: number, length: number) => backend.read(fh._use('read'), buffer, offset, length, -1, Shape.Number, fh, signal) as Promise<number>
  const result = (total: number): string | NonSharedBuffer => {
    const data = buffer.subarray(0, total)
    return encoding ? data.toString(encoding as BufferEncoding) : (data as NonSharedBuffer)
  }
  let total = 0
  while (total < buffer.byteLength) {
    checkAborted(signal)
    const n = await read(total, size === 0 ? buffer.byteLength - total : Math.min(size - total, kReadFileBufferLength))
    total += n
    if (n === 0 || total === size) return result(total)
  }
  if (size === 0) {
    // Full, with no size known: one more byte says whether the file went on.
    checkAborted(signal)
    const more = (await backend.read(fh._use('read'), Buffer.allocUnsafeSlow(1), 0, 1, -1, Shape.Number, fh, signal, true)) as number
    if (more !== 0) throw invalidArgValue(name, buffer.byteLength, 'is too small to contain the entire file')
  }
  // As Node: all of it decoded, a Buffer of what was read.
  return encoding ? buffer.toString(encoding as BufferEncoding) : (buffer.subarray(0, total) as NonSharedBuffer)
}

/** An encoding readFile cannot decode with ('buffer' passes the option check but is none). */
export function undecodable(encoding: Encoding | undefined): boolean {
  return Boolean(encoding) && !Buffer.isEncoding(encoding as string)
}

/** Throws what Node's readFileHandle throws for such an encoding: its StringDecoder's ERR_UNKNOWN_ENCODING. */
export function refuseEncoding(encoding: Encoding | undefined): never {
  new StringDecoder(encoding as BufferEncoding)
  throw new Error(`unreachable: StringDecoder accepted ${String(encoding)}`)
}

/** As Node: a falsy encoding ('', 0, null) is a Buffer; 'buffer' passes the option check, then fails here with ERR_UNKNOWN_ENCODING. */
export function decoded(data: Buffer, encoding: Encoding): string | NonSharedBuffer {
  // readFile's Buffers are its own allocations (allocUnsafeSlow, concat): ordinary ArrayBuffers.
  return encoding ? data.toString(encoding as BufferEncoding) : (data as NonSharedBuffer)
}

export function fileTooLarge(size: number): NodeStyleError {
  return new NodeStyleError(RangeError as unknown as ErrorConstructor, 'ERR_FS_FILE_TOO_LARGE', `File size (${size}) is greater than 2 GiB`)
}

/**
 * readFile's read loop, after `total` bytes (in `chunks`) were read: with a known `size` (a
 * regular file) into one buffer up to that size, then on in chunks until a read returns 0, in
 * case the file grew.
 */
export async function readRest(
  read: (buf: Buffer, offset: number, length: number) => Promise<number>,
  size: number,
  chunks: Buffer[],
  total: number,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  if (size > kIoMaxLength) throw fileTooLarge(size)
  let complete = true
  if (size > total) {
    // Unpooled, as Node's readFile: the kernel may write into these in place (direct reads),
    // so they must not share memory with Buffers user code holds.
    const buf = Buffer.allocUnsafeSlow(size - total)
    let got = 0
    while (got < buf.length) {
      checkAborted(signal)
      const n = await read(buf, got, Math.min(buf.length - got, kReadFileBufferLength))
      if (n === 0) break
      got += n
    }
    chunks.push(got === buf.length ? buf : buf.subarray(0, got))
    total += got
    complete = got === buf.length
  }
  while (complete) {
    checkAborted(signal)
    const buf = Buffer.allocUnsafeSlow(kReadFileUnknownBufferLength)
    const n = await read(buf, 0, buf.length)
    if (n === 0) break
    chunks.push(n === buf.length ? buf : buf.subarray(0, n))
    total += n
    if (total > kIoMaxLength) throw fileTooLarge(total)
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)
}

/** The rest of a chained readFile whose first read may not have reached the end. */
export async function readOpened(f: OpenedRead): Promise<Buffer> {
  let data: Buffer
  try {
    data = await readRest((b, o, l) => f.read(b, o, l), f.size, [f.bytes], f.bytes.length, undefined)
  } catch (e) {
    await f.close().catch(() => {})
    throw e
  }
  await f.close()
  return data
}

export async function writeBytes(fh: HandleLike, backend: Backend, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  let off = 0
  // Write at the current position until everything is written (short writes continue).
  do {
    checkAborted(signal)
    const len = Math.min(bytes.byteLength - off, kWriteFileMaxChunkSize)
    const n = (await backend.write(fh._use('write'), bytes, off, len, -1, Shape.Number, fh, signal)) as number
    off += n
  } while (off < bytes.byteLength)
}

/** The encoding writeFile converts strings with, as Node's `encoding || 'utf8'` ('buffer' then fails with ERR_UNKNOWN_ENCODING). */
export function writeEncoding(encoding: Encoding | undefined): BufferEncoding {
  return (encoding || 'utf8') as BufferEncoding
}

/** Data writeFile takes chunk by chunk: an object that is iterable or async-iterable. */
export function isIterable(data: unknown): data is Iterable<unknown> | AsyncIterable<unknown> {
  return data != null && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)
}

export async function writeAll(fh: HandleLike, backend: Backend, data: unknown, encoding: BufferEncoding | 'buffer' | null | undefined, signal: AbortSignal | undefined): Promise<void> {
  const enc = writeEncoding(encoding)
  if (typeof data === 'string') data = Buffer.from(data, enc)
  if (isArrayBufferView(data)) {
    // As Node's writeFileHandle (a detached buffer throws its TypeError here).
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (bytes.byteLength > 0) await writeBytes(fh, backend, bytes, signal)
    else checkAborted(signal)
    return
  }
  if (isIterable(data)) {
    for await (const chunk of data as AsyncIterable<unknown>) {
      let bytes: Uint8Array
      if (typeof chunk === 'string') bytes = Buffer.from(chunk, enc)
      else if (isArrayBufferView(chunk)) bytes = toBytes(chunk)
      else throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView'], chunk)
      if (bytes.byteLength > 0) await writeBytes(fh, backend, bytes, signal)
    }
    return
  }
  throw invalidArgType('data', ['string', 'Buffer', 'TypedArray', 'DataView', 'Iterable', 'AsyncIterable'], data)
}
