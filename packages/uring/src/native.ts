// Loads the native binding, once per thread, and says why when it cannot be used.
import type * as Binding from '../binding'

/** The generated binding (`NativeRing`; its `hot()` gives a ring's raw read/write functions). */
export type NativeBinding = typeof Binding

let loaded: { binding?: NativeBinding; reason?: string } | undefined

/** The native binding, or the reason it is unavailable (platform, missing binary). */
export function loadNative(): { binding?: NativeBinding; reason?: string } {
  if (loaded) return loaded
  if (process.platform !== 'linux') {
    loaded = { reason: `io_uring is Linux-only; this platform is ${process.platform}` }
    return loaded
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { binding: require('../binding.js') as NativeBinding }
  } catch (e) {
    const transient = transientCause(e)
    if (transient !== undefined) {
      // Out of fds or memory for a moment: not remembered, the next Ring tries again.
      return { reason: `the native binary could not be loaded just now (${transient}); the next Ring will try again` }
    }
    loaded = { reason: noBinaryReason(e) }
  }
  return loaded
}

/** The loader's error when it ran out of fds or memory (dlopen's "Too many open files"), else undefined. */
function transientCause(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 10; c = (c as { cause?: unknown }).cause, i++) {
    const m = String((c as Error)?.message ?? c)
    const hit = /Too many open files in system|Too many open files|Cannot allocate memory|\b(EMFILE|ENFILE|ENOMEM)\b/.exec(m)
    if (hit) return m.split('\n')[0]
  }
  return undefined
}

/**
 * Says which platform package was missing or failed to load, with the loader's own errors (napi's
 * loader throws "Cannot find native binding" with the errors of its attempts chained through `cause`).
 */
function noBinaryReason(e: unknown): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  const libc = header?.glibcVersionRuntime ? 'gnu' : 'musl'
  const triple = `${process.platform}-${process.arch}-${libc}`
  const first = (x: unknown) => String((x as Error)?.message ?? x).split('\n')[0]
  const causes: string[] = []
  for (let c = (e as { cause?: unknown })?.cause; c && causes.length < 8; c = (c as { cause?: unknown }).cause) causes.push(first(c))
  // napi's loader also tries a WebAssembly build, which uring does not ship.
  const detail = causes.filter((m) => !/wasi|wasm32/.test(m)).join('; ') || first(e)
  return `no native binary could be loaded for ${triple}: the optional package uring-${triple} is missing or did not load (${detail})`
}

/** Explains a failed `io_uring_setup` from the native error (its `errno` property, negative). */
export function setupFailureReason(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e)
  const n = (e as { errno?: unknown } | null)?.errno
  const errno = typeof n === 'number' ? -n : 0
  let why: string
  switch (errno) {
    case 1: // EPERM
      why = "EPERM: io_uring is forbidden here (sysctl kernel.io_uring_disabled, or a seccomp filter such as Docker's default profile)"
      break
    case 38: // ENOSYS
      why = 'ENOSYS: this kernel has no io_uring'
      break
    case 12: // ENOMEM
      why = 'ENOMEM: the ring could not be allocated (RLIMIT_MEMLOCK on kernels before 5.12?)'
      break
    case 24: // EMFILE
      why = 'EMFILE: no file descriptor left for the ring'
      break
    default:
      why = msg
  }
  return `io_uring_setup failed: ${why}`
}
