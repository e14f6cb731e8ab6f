// `uring/net`: promise sockets on this thread's socket ring (`defaultNetRing().net`, a ring that
// submits from this thread: see `defaultNetRing`). Each call looks the ring up, so it keeps
// working after that ring was closed.
import type { ConnectExtras, ConnectOptions, ListenOptions } from './net/conn'
import type { Server } from './net/server'
import type { Socket } from './net/socket'
import { defaultNetRing } from './ring'

export { NetApi } from './net/api'
export { Server } from './net/server'
export { Socket } from './net/socket'
export type { AddressInfo, ConnectExtras, ConnectOptions, ListenOptions } from './net/conn'

/** Listens on a TCP host and port (IPv4 or IPv6) or a Unix socket path; see `NetApi.listen`. */
export function listen(options?: ListenOptions): Promise<Server> {
  return defaultNetRing().net.listen(options)
}

/** Connects to a TCP host and port, or a Unix socket path; see `NetApi.connect`. */
export function connect(options: ConnectOptions, extras?: ConnectExtras): Promise<Socket> {
  return defaultNetRing().net.connect(options, extras)
}
