// Consumer type test, CommonJS under moduleResolution node16: require('uring'), 'uring/fs', 'uring/net'.
import uring = require('uring')
import fs = require('uring/fs')
import net = require('uring/net')
const { Ring, defaultRing } = uring
type Ring = uring.Ring
type RingError = uring.RingError
type BackendKind = uring.BackendKind
type RingOptions = uring.RingOptions
type FileHandle = fs.FileHandle
type Server = net.Server
type Socket = net.Socket

const options: RingOptions = { entries: 64, sqpoll: { idleMs: 100 }, backend: 'auto' }
const ring: Ring = new Ring(options)
const kind: BackendKind = ring.backend
const reason: string | undefined = ring.fallbackReason
const text: Promise<string> = fs.readFile('x', 'utf8')
const bytes: Promise<Buffer> = fs.readFile('x')
const handle: Promise<FileHandle> = fs.open('x', 'r')
const stats: Promise<import('node:fs').BigIntStats> = fs.stat('x', { bigint: true })
const server: Promise<Server> = net.listen({ port: 0 })
const socket: Promise<Socket> = net.connect({ host: 'localhost', port: 1 })
const shared: Ring = defaultRing()
const failure: RingError | undefined = undefined

// Each line below must be a type error: if the types resolved to `any`, tsc would report each
// directive below as unused and this test would fail.
// @ts-expect-error with an encoding, readFile resolves to a string
const notBytes: Promise<Buffer> = fs.readFile('x', 'utf8')
// @ts-expect-error the backend is 'auto', 'io_uring' or 'node'
new Ring({ backend: 'epoll' })
// @ts-expect-error Socket.write takes bytes or a string
socket.then((s) => s.write(42))
// @ts-expect-error a batch op needs a known op name
ring.batch([{ op: 'readdir', path: 'x' }])

export { notBytes, kind, reason, text, bytes, handle, stats, server, socket, shared, failure }
