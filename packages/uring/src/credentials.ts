// After the process changes credentials, no ring may run an op with the old ones. A ring's ops
// run with its submitter's current credentials — except an SQPOLL ring's, which run with those
// of its kernel thread, fixed when the ring was made: after `process.setuid()`, a ring made as
// root would go on opening files as root (the CVE-2024-22017 class that made libuv turn its
// io_uring off). So the calls that change credentials tell the binding, and an SQPOLL ring
// registers the new credentials as a personality before its next op (uring-core's
// `Ring::adopt_credentials`). Node has no event for this: the process methods are wrapped, once,
// when uring is imported (only the main thread has them; a change made there reaches the rings
// of every thread, through a counter in the binding).
import { loadNative } from './native'

const METHODS = ['setuid', 'seteuid', 'setgid', 'setegid', 'setgroups', 'initgroups'] as const

let watching = false

/** Wraps `process.setuid` and the like so that each call tells the binding (idempotent). */
export function watchCredentials(): void {
  if (watching) return
  watching = true
  const proc = process as unknown as Record<string, unknown>
  for (const name of METHODS) {
    const original = proc[name]
    if (typeof original !== 'function') continue // worker threads, Windows
    const wrapped = {
      [name](this: unknown, ...args: unknown[]): unknown {
        try {
          return original.apply(this, args)
        } finally {
          // Even after a throw: initgroups may have changed some of them. A spurious call only
          // registers the same credentials again. (Loads the binding if this thread has not:
          // a worker's rings may be using it.)
          if (process.platform === 'linux') loadNative().binding?.credentialsChanged()
        }
      },
    }[name]
    proc[name] = wrapped
  }
}
