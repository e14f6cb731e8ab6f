// `uring/net`: promise sockets on this thread's default ring (`defaultRing().net`). Each call
// looks the default ring up, so it keeps working after the default ring was closed.
import type { ConnectExtras, ConnectOptions, ListenOptions, Server, Socket } from './net-api'
import { defaultRing } from './ring'

export { NetApi, Server, Socket } from './net-api'
export type { AddressInfo, ConnectExtras, ConnectOptions, ListenOptions } from './net-api'

/** Listens on a TCP host and port (IPv4 or IPv6) or a Unix socket path; see `NetApi.listen`. */
export function listen(options?: ListenOptions): Promise<Server> {
  return defaultRing().net.listen(options)
}

/** Connects to a TCP host and port, or a Unix socket path; see `NetApi.connect`. */
export function connect(options: ConnectOptions, extras?: ConnectExtras): Promise<Socket> {
  return defaultRing().net.connect(options, extras)
}
