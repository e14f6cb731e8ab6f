// What becomes of a FileHandle collected while still open: as Node's, its fd is closed at once,
// with Node's two warnings.
import * as nodeFs from 'node:fs'
import type { Backend } from './backend'

/**
 * FileHandles collected while still open: their fd is closed, with the warning Node gives
 * ("Closing file descriptor N on garbage collection"). A handle with ops in flight is never
 * collected (each op holds it until it completes).
 */
export const unclosed = new FinalizationRegistry<{ fd: number; backend: Backend }>(({ fd, backend }) => {
  backend.disown?.(fd)
  // At once, as Node's FileHandle does in its destructor: an asynchronous close could still be
  // waiting on the thread pool when a worker ends, and the disowned fd would leak (seen on Node 24).
  try {
    nodeFs.closeSync(fd)
  } catch {
    // closed behind the handle's back
  }
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`, 'Warning')
  // Node adds its deprecation once per thread (env->filehandle_close_warning()).
  if (!deprecationEmitted) {
    deprecationEmitted = true
    process.emitWarning(
      'Closing a FileHandle object on garbage collection is deprecated. Please close FileHandle objects explicitly using FileHandle.prototype.close(). In the future, an error will be thrown if a file descriptor is closed during garbage collection.',
      'DeprecationWarning',
      'DEP0137',
    )
  }
})
let deprecationEmitted = false
