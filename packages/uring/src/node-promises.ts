// node:fs/promises as it was when uring loaded. `uring/register` replaces the functions of the
// process's node:fs/promises object with uring's, so uring's own delegations to node:fs (the ops
// without an io_uring opcode) take them from this copy, never from the live object, which would
// send them back into uring.
import * as live from 'node:fs/promises'

/** The functions of node:fs/promises, copied before anything could replace them. */
export const nodeFsP: typeof live = Object.freeze({ ...live })
