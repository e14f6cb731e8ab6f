// Argument checks with node:fs/promises's rules and error codes.
import { constants } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AbortError, invalidArgType, invalidArgValue, outOfRange } from './errors'

export type PathLike = string | Buffer | URL

/** The running Node's major version: a few checks and result shapes changed between 20 and 24. */
export const NODE_MAJOR = Number(process.versions.node.split('.')[0])

export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value)
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value)
}

/** `validateInteger` within int32 by default, as Node's validateInt32. */
export function validateInt32(value: unknown, name: string, min = -2147483648, max = 2147483647): asserts value is number {
  validateInteger(value, name, min, max)
}

export function validateUint32(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value)
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < 0 || value > 4294967295) throw outOfRange(name, '>= 0 && <= 4294967295', value)
}

/**
 * Node's JS checks let some numbers through that its C++ binding then asserts are int32s
 * (`CHECK(args[n]->IsInt32())`), which aborts the process: -0, and modes or lengths of 2**31 and
 * more. uring rejects them (ERR_OUT_OF_RANGE) before they reach node:fs or the kernel.
 */
export function validateNotAborting(value: number, name: string, min: number, minusZeroIsZero = false): number {
  if (value > 2147483647) throw outOfRange(name, `>= ${min} && <= 2147483647`, value)
  if (Object.is(value, -0)) {
    if (minusZeroIsZero) return 0
    throw outOfRange(name, `>= ${min} && <= 2147483647 and not -0`, value)
  }
  return value
}

/** Node 24 takes a mode or flags of -0 as 0 (Node 20 and 22 abort); a write length of -0 aborts everywhere. */
const MODE_MINUS_ZERO_OK = NODE_MAJOR >= 24

/**
 * A write's (or writev's, readv's) position as Node's binding reads it (`GetOffset`): a safe
 * integer is the position (a negative one, the current position); anything else — not a number,
 * NaN, 1.5, 2**53, a bigint — is the current position (-1).
 */
export function lenientPosition(position: unknown): number {
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position + 0 : -1
}

/**
 * `{ offset = 0, length = byteLength - offset, position = null } = o`, as Node's read and write
 * destructure their options: only an undefined field takes its default (null ones are read later).
 */
export function ioOptions(o: { offset?: unknown; length?: unknown; position?: unknown }, byteLength: number): [unknown, unknown, unknown] {
  const offset = o.offset === undefined ? 0 : o.offset
  return [offset, o.length === undefined ? byteLength - (offset as number) : o.length, o.position === undefined ? null : o.position]
}

export function validateFd(fd: unknown): asserts fd is number {
  validateInt32(fd, 'fd', 0)
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'boolean', value)
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'string', value)
}

export function validateObject(value: unknown, name: string, nullable = false): void {
  if ((!nullable && value === null) || Array.isArray(value) || typeof value !== 'object') {
    if (nullable && value === null) return
    throw invalidArgType(name, 'Object', value)
  }
}

export function validateBuffer(buffer: unknown, name = 'buffer'): asserts buffer is NodeJS.ArrayBufferView {
  if (!ArrayBuffer.isView(buffer)) throw invalidArgType(name, ['Buffer', 'TypedArray', 'DataView'], buffer)
}

/** Node's `validateBufferArray`: an array of ArrayBufferViews (the error names the whole array). */
export function validateBufferArray(buffers: unknown, name = 'buffers'): asserts buffers is NodeJS.ArrayBufferView[] {
  if (!Array.isArray(buffers)) throw invalidArgType(name, 'ArrayBufferView[]', buffers)
  for (let i = 0; i < buffers.length; i++) {
    if (!ArrayBuffer.isView(buffers[i])) throw invalidArgType(name, 'ArrayBufferView[]', buffers)
  }
}

/** A position: integer >= -1 (or null/-1 for "current position"), or a bigint. Returns a number. */
export function validatePosition(position: unknown, name: string, length: number): number {
  if (typeof position === 'number') {
    validateInteger(position, name, -1)
    return position
  }
  if (typeof position === 'bigint') {
    const max = 2n ** 63n - 1n - BigInt(length)
    if (!(position >= -1n && position <= max)) throw outOfRange(name, `>= -1 && <= ${max}`, position)
    // Past 2**53 a Number would round (and node:fs refuses it): such a position is past the end
    // of any file Node can make, where a read finds nothing either way.
    return position > 9007199254740991n ? Number.MAX_SAFE_INTEGER : Number(position)
  }
  throw invalidArgType(name, ['integer', 'bigint'], position)
}

export function validateOffsetLengthRead(offset: number, length: number, bufferLength: number): void {
  if (offset < 0) throw outOfRange('offset', '>= 0', offset)
  if (length < 0) throw outOfRange('length', '>= 0', length)
  if (offset + length > bufferLength) throw outOfRange('length', `<= ${bufferLength - offset}`, length)
}

export function validateOffsetLengthWrite(offset: number, length: number, byteLength: number): void {
  if (offset > byteLength) throw outOfRange('offset', `<= ${byteLength}`, offset)
  if (length > byteLength - offset) throw outOfRange('length', `<= ${byteLength - offset}`, length)
  if (length < 0) throw outOfRange('length', '>= 0', length)
  validateInt32(length, 'length', 0)
  validateNotAborting(length, 'length', 0)
}

/** A path as the kernel gets it: string or Buffer (URLs converted), without NUL bytes. */
export function getValidatedPath(path: unknown, name = 'path'): string | Buffer {
  if (path instanceof URL || (path != null && (path as URL).href && (path as URL).protocol)) path = fileURLToPath(path as URL)
  if (typeof path !== 'string' && !(path instanceof Uint8Array)) throw invalidArgType(name, ['string', 'Buffer', 'URL'], path)
  const bad = typeof path === 'string' ? path.includes('\u0000') : path.includes(0)
  if (bad) throw invalidArgValue(name, path, 'must be a string, Uint8Array, or URL without null bytes')
  return typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength)
}

const { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY } = constants

const flagTable: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
}

/** Node's `stringToFlags`: 'r', 'w+', ... or a number; null/undefined mean `def`. */
export function stringToFlags(flags: unknown, def: string | number = 'r', name = 'flags'): number {
  if (flags == null) flags = def
  if (typeof flags === 'number') {
    validateInt32(flags, name)
    return validateNotAborting(flags, name, -2147483648, MODE_MINUS_ZERO_OK)
  }
  if (typeof flags === 'string' && Object.hasOwn(flagTable, flags)) return flagTable[flags]
  throw invalidArgValue(name, flags)
}

/**
 * Node's `parseFileMode`: a uint32 or an octal string; null/undefined mean `def`. Modes past
 * int32 (and -0), which Node's binding aborts on, are rejected (see `validateNotAborting`).
 */
export function parseFileMode(value: unknown, name: string, def?: number): number {
  value ??= def
  if (typeof value === 'string') {
    if (!/^[0-7]+$/.test(value)) throw invalidArgValue(name, value, 'must be a 32-bit unsigned integer or an octal string')
    value = parseInt(value, 8)
  }
  validateUint32(value, name)
  return validateNotAborting(value, name, 0, MODE_MINUS_ZERO_OK)
}

/** Node's `assertEncoding`: only a truthy encoding is checked ('', 0, null mean the default). */
export function assertEncoding(encoding: unknown): void {
  if (encoding && encoding !== 'buffer' && (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))) {
    throw invalidArgValue('encoding', encoding, 'is invalid encoding')
  }
}

export function validateEncoding(encoding: unknown): BufferEncoding | 'buffer' | null {
  if (encoding == null || encoding === 'buffer') return (encoding as null) ?? null
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw invalidArgValue('encoding', encoding, 'is invalid encoding')
  return encoding
}

/**
 * Node's `getOptions`: a string is the encoding; an object is merged over the defaults (so a key
 * set to null or undefined overrides its default: callers read each as Node does, `??` or `||`).
 */
export function getOptions<T extends object>(options: unknown, defaults: T): T & { encoding?: BufferEncoding | 'buffer' | null } {
  let result: any
  if (options == null || typeof options === 'function') result = { ...defaults }
  else if (typeof options === 'string') result = { ...defaults, encoding: options }
  else if (typeof options === 'object') result = { ...defaults, ...options }
  else throw invalidArgType('options', ['string', 'Object'], options)
  assertEncoding(result.encoding)
  // As Node's getOptions: a signal given must be an AbortSignal, before anything else is checked.
  if (result.signal !== undefined) validateAbortSignal(result.signal, 'options.signal')
  return result
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason })
}

export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'AbortSignal', signal)
  }
}
