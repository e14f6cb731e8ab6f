// What becomes of a FileHandle collected while still open: as Node's, its fd is closed at once,
// with Node's two warnings.
import type { Backend } from './backend'

/**
 * FileHandles collected while still open: their fd is closed, with the warning Node gives
 * ("Closing file descriptor N on garbage collection"). A handle with ops in flight is never
 * collected (each op holds it until it completes).
 */
export const unclosed = new FinalizationRegistry<{ fd: number; backend: Backend }>(({ fd, backend }) => {
  // At once, as Node's FileHandle does in its destructor (an asynchronous close could still be
  // waiting when a worker ends), and forgotten by the ring in the same native call: a worker's
  // termination can cut this callback short between two JavaScript steps, and a disown followed
  // by a close leaked the fd there (Node 24, about 1 run in 4 of the worker-termination test).
  try {
    backend.closeSync(fd)
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
