// Consumer type test, ESM under moduleResolution node16: import from 'uring', 'uring/fs', 'uring/net'.
import uring, { Ring, RingError, defaultRing, type BackendKind, type RingOptions } from 'uring'
import * as fs from 'uring/fs'
import type { FileHandle } from 'uring/fs'
import * as net from 'uring/net'
import type { Server, Socket } from 'uring/net'
const sameInstance: typeof Ring = uring.Ring
export { sameInstance }
