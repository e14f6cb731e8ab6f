// Errors shaped like Node's own: system errors carry code/errno/syscall/path(/dest), argument
// errors carry Node's ERR_* codes and messages, so code written against node:fs keeps working.
import { getSystemErrorMap, inspect } from 'node:util'

const systemErrors = getSystemErrorMap()

/** An error from the operating system, as `node:fs/promises` reports it. */
export interface SystemError extends Error {
  errno: number
  code: string
  syscall: string
  path?: string
  dest?: string
}

/** Builds Node's system error for a negative errno, e.g. `ENOENT: no such file or directory, open '/x'`. */
export function systemError(errno: number, syscall: string, path?: string | Buffer, dest?: string | Buffer): SystemError {
  const [code, desc] = systemErrors.get(errno) ?? [`Unknown system error ${errno}`, `Unknown system error ${errno}`]
  let message = `${code}: ${desc}, ${syscall}`
  const p = path === undefined ? undefined : String(path)
  const d = dest === undefined ? undefined : String(dest)
  if (p !== undefined) message += ` '${p}'`
  if (d !== undefined) message += ` -> '${d}'`
  const err = new Error(message) as SystemError
  err.errno = errno
  err.code = code
  err.syscall = syscall
  if (p !== undefined) err.path = p
  if (d !== undefined) err.dest = d
  return err
}

/** errno values used by the library itself (Linux numbering, negative as Node reports them). */
export const UV = {
  EAGAIN: -11,
  EBADF: -9,
  EEXIST: -17,
  ENOENT: -2,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  ENOMEM: -12,
  ENFILE: -23,
  EMFILE: -24,
  ESPIPE: -29,
  EOPNOTSUPP: -95,
  ECONNABORTED: -103,
  ENOBUFS: -105,
  ETIMEDOUT: -110,
  ECANCELED: -125,
} as const

export class NodeStyleError extends Error {
  code: string
  constructor(Base: ErrorConstructor, code: string, message: string) {
    super(message)
    this.code = code
    Object.setPrototypeOf(this, Base.prototype)
    Object.defineProperty(this, 'name', { value: Base.name, enumerable: false, writable: true, configurable: true })
    Error.captureStackTrace?.(this, NodeStyleError)
  }
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`
  }
}

function addNumericalSeparator(val: string): string {
  let res = ''
  let i = val.length
  const start = val[0] === '-' ? 1 : 0
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`
  return `${val.slice(0, i)}${res}`
}

/** Node's "Received ..." suffix (lib/internal/errors.js determineSpecificType). */
function received(value: unknown): string {
  if (value == null) return ` Received ${value}`
  if (typeof value === 'function') return ` Received function ${(value as (...a: unknown[]) => unknown).name}`
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    if (name) return ` Received an instance of ${name}`
    return ` Received ${inspect(value, { depth: -1 })}`
  }
  let shown = inspect(value, { colors: false })
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return ` Received type ${typeof value} (${shown})`
}

const classRe = /^[A-Z][a-zA-Z0-9]*$/
const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']

function formatList(list: string[], last = 'or'): string {
  return list.length < 3 ? list.join(` ${last} `) : `${list.slice(0, -1).join(', ')}, ${last} ${list[list.length - 1]}`
}

/** `ERR_INVALID_ARG_TYPE`, message as Node builds it. */
export function invalidArgType(name: string, expected: string | string[], actual: unknown): NodeStyleError {
  const exp = Array.isArray(expected) ? expected : [expected]
  let msg = 'The '
  if (name.endsWith(' argument')) msg += `${name} `
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `
  msg += 'must be '
  const types: string[] = []
  const instances: string[] = []
  const other: string[] = []
  for (const v of exp) {
    if (kTypes.includes(v)) types.push(v.toLowerCase())
    else if (classRe.test(v)) instances.push(v)
    else other.push(v)
  }
  if (instances.length > 0) {
    const pos = types.indexOf('object')
    if (pos !== -1) {
      types.splice(pos, 1)
      instances.push('Object')
    }
  }
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types)}`
    if (instances.length > 0 || other.length > 0) msg += ' or '
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances)}`
    if (other.length > 0) msg += ' or '
  }
  if (other.length > 0) {
    if (other.length > 1) msg += `one of ${formatList(other)}`
    else msg += other[0].toLowerCase() !== other[0] ? `an ${other[0]}` : other[0]
  }
  msg += `.${received(actual)}`
  return new NodeStyleError(TypeError, 'ERR_INVALID_ARG_TYPE', msg)
}

/** `ERR_OUT_OF_RANGE`. */
export function outOfRange(name: string, range: string, value: unknown): NodeStyleError {
  let shown: string
  if (Number.isInteger(value) && Math.abs(value as number) > 2 ** 32) shown = addNumericalSeparator(String(value))
  else if (typeof value === 'bigint') {
    shown = String(value)
    if (value > 2n ** 32n || value < -(2n ** 32n)) shown = addNumericalSeparator(shown)
    shown += 'n'
  } else shown = inspect(value)
  return new NodeStyleError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`)
}

/** `ERR_INVALID_ARG_VALUE`. */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): NodeStyleError {
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  const type = name.includes('.') ? 'property' : 'argument'
  return new NodeStyleError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${type} '${name}' ${reason}. Received ${shown}`)
}

/** Node's AbortError: code ABORT_ERR, the signal's reason as `cause`. */
export class AbortError extends Error {
  code = 'ABORT_ERR'
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AbortError'
  }
}

/** `ERR_INVALID_STATE`, as Node words it. */
export function invalidState(what: string): NodeStyleError {
  return new NodeStyleError(Error, 'ERR_INVALID_STATE', `Invalid state: ${what}`)
}

/** Errors of the `Ring` itself (bad options, closed ring). */
export class RingError extends Error {
  code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'RingError'
    this.code = code
  }
}

/** `ERR_RING_CLOSED`: an op started on a ring after `close()`. */
export function ringClosed(syscall: string): RingError {
  return new RingError('ERR_RING_CLOSED', `ring is closed, ${syscall}`)
}

/** Runs `start`; what it throws (argument errors) becomes a rejection, as in node:fs/promises. */
export function rejecting<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start()
  } catch (e) {
    return Promise.reject(e)
  }
}

/**
 * `p`, whose rejection's stack is taken again where the caller awaits it, as node:fs/promises'
 * errors have it (`at async userFunction (app.mjs:46)`): an op's error is made when its completion
 * is settled, outside the caller's chain, so it would show only uring's frames. The stack is
 * captured in the rejection handler, which runs as a reaction job of the promise the caller
 * awaits, so V8 walks back through the awaiting callers (Node's own `handleErrorFromBinding`
 * does the same); the handler's frame is left out. One promise per call (an async function
 * here cost two promises and a generator resume: without, stat +3-4%, readFile +6%, a walk +7%
 * in 4 A/B pairs).
 */
export function withCaller<T>(p: Promise<T>): Promise<T> {
  return p.then(undefined, restack)
}

function restack(e: unknown): never {
  if (e instanceof Error) Error.captureStackTrace(e, restack)
  throw e
}
