// uring/net on both backends with the same bodies: echo under load, many short connections,
// IPv6 and Unix sockets, half-close, errors shaped like node:net's, resets, timeouts, aborts,
// server close with live connections, and backpressure.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import * as nodeNet from 'node:net'
import { join } from 'node:path'
import { caught, each } from './helpers'
import type { Ring } from 'uring'

type Server = Awaited<ReturnType<Ring['net']['listen']>>
type Sock = Awaited<ReturnType<Ring['net']['connect']>>

/** Serves echo on `server` until it closes: every connection gets its bytes back, then end. */
function echo(server: Server): Promise<void> {
  const conns: Promise<void>[] = []
  return (async () => {
    for await (const s of server) {
      conns.push(
        (async () => {
          try {
            for await (const chunk of s) await s.write(chunk)
            await s.end()
          } catch {
            // a peer that reset: this connection is over, the server goes on
          } finally {
            await s.close()
          }
        })(),
      )
    }
    await Promise.all(conns)
  })()
}

async function readAll(s: Sock): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(c)
  return Buffer.concat(chunks)
}

function port(server: Server): number {
  const a = server.address()
  if (a === null || typeof a === 'string') throw new Error(`not TCP: ${a}`)
  return a.port
}

/** The parts of a socket error code written against node:net relies on. */
function netShape(e: any): Record<string, unknown> {
  return { code: e?.code, errno: e?.errno, syscall: e?.syscall, address: e?.address, port: e?.port, message: e?.message }
}

/** 8 clients echo 8 MiB each through `ring`; writes awaited one by one, or (`awaited` false) all issued at once. */
async function echoEight(ring: Ring, awaited: boolean): Promise<boolean[]> {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const serving = echo(server)
  const results = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const data = Buffer.alloc(8 << 20)
      for (let j = 0; j < data.length; j += 4) data.writeUInt32LE((j * 2654435761 + i) >>> 0, j)
      const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
      const [back] = await Promise.all([
        readAll(c),
        (async () => {
          // In pieces of various sizes, some zero-copy (>= 64 KiB), some not.
          const writes: Promise<void>[] = []
          for (let off = 0, k = 0; off < data.length; k++) {
            const n = [1000, 65536, 300000, 7][k % 4]
            const w = c.write(data.subarray(off, off + n))
            if (awaited) await w
            else writes.push(w)
            off += n
          }
          await Promise.all(writes)
          await c.end()
        })(),
      ])
      await c.close()
      return createHash('sha256').update(back).digest('hex') === createHash('sha256').update(data).digest('hex') && back.length === data.length
    }),
  )
  await server.close()
  await serving
  return results
}

each('8 clients echo 8 MiB each, checksums match', async (t, { ring }) => {
  t.deepEqual(await echoEight(ring, true), Array(8).fill(true))
})

// A ring without a submit thread (DEFER_TASKRUN, uring/net's default) tries each write with
// send(2) on the JS thread first, straight from the caller's bytes; what the socket does not
// take at once goes through the ring. Both must keep every byte in order.
each(
  'without a submit thread, 8 clients echo 8 MiB each (awaited writes, then all at once), checksums match',
  async (t, { ring, backend }) => {
    t.deepEqual(await echoEight(ring, true), Array(8).fill(true))
    t.deepEqual(await echoEight(ring, false), Array(8).fill(true))
    const s = ring.stats()
    if (backend === 'io_uring' && ring.mode === 'defer_taskrun') t.true(s.ownSends > 0, JSON.stringify(s))
    else t.is(s.ownSends, 0)
  },
  { submitThread: false },
)

// A write made while an earlier one is still going out (through the ring, the socket's buffer
// being full) waits for it, even when the socket could take it at once: bytes stay in order.
// The reader is another process, so the socket's buffer frees at any moment, not only when
// this thread enters the ring.
each(
  'a write made while a big one is still going out waits for it (reader in another process)',
  async (t, { ring }) => {
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer((c) => { let n = 0, first = -1
          c.on('data', (d) => { const i = d.indexOf(0x73); if (first < 0 && i >= 0) first = n + i; n += d.length })
          c.on('end', () => { process.stdout.write(JSON.stringify({ n, first })); s.close() }) })
        s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    const portLine = await new Promise<string>((resolve) =>
      reader.stdout.on('data', (d) => {
        out += d
        if (out.includes('\n')) resolve(out)
      }),
    )
    out = ''
    const ended = new Promise<string>((resolve) => reader.on('exit', () => resolve(out)))
    const c = await ring.net.connect({ host: '127.0.0.1', port: Number(portLine.trim()) })
    const big = 64 << 20
    const rounds = 4
    for (let r = 0; r < rounds; r++) {
      const first = c.write(Buffer.alloc(big, 0x62))
      await new Promise((resolve) => setImmediate(resolve))
      await Promise.all([first, c.write(Buffer.from('s'))])
    }
    await c.end()
    const got = JSON.parse(await ended)
    await c.close()
    t.is(got.n, rounds * (big + 1))
    t.is(got.first, big, 'a later write came out inside an earlier one')
  },
  { submitThread: false },
)

// reusePort: two servers on one port (here on one ring; one per worker is the use), the kernel
// spreads connections between them. node:net has the option from Node 22.12: before, its second
// listen fails with EADDRINUSE, and so does the node backend's.
each('reusePort: two servers share a port, both get connections; without it the port is taken', async (t, { ring, backend }) => {
  const [major, minor] = process.versions.node.split('.').map(Number)
  const supported = backend === 'io_uring' || major > 22 || (major === 22 && minor >= 12)
  const a = await ring.net.listen({ host: '127.0.0.1', port: 0, reusePort: true })
  const p = port(a)
  t.like(await caught(() => ring.net.listen({ host: '127.0.0.1', port: p })), { code: 'EADDRINUSE', syscall: 'listen' })
  t.like(await caught(() => ring.net.listen({ host: '127.0.0.1', port: 0, reusePort: 1 as never })), { code: 'ERR_INVALID_ARG_TYPE' })
  if (!supported) {
    t.like(await caught(() => ring.net.listen({ host: '127.0.0.1', port: p, reusePort: true })), { code: 'EADDRINUSE' })
    await a.close()
    return
  }
  const b = await ring.net.listen({ host: '127.0.0.1', port: p, reusePort: true })
  const counts = [0, 0]
  const serve = (srv: Server, i: number) =>
    (async () => {
      for await (const s of srv) {
        counts[i]++
        await s.close()
      }
    })()
  const serving = [serve(a, 0), serve(b, 1)]
  for (let i = 0; i < 64; i++) {
    const c = await ring.net.connect({ host: '127.0.0.1', port: p })
    await c.close()
  }
  for (let i = 0; i < 200 && counts[0] + counts[1] < 64; i++) await new Promise((r) => setTimeout(r, 10))
  t.is(counts[0] + counts[1], 64)
  t.true(counts[0] > 0 && counts[1] > 0, `connections: ${counts}`)
  await a.close()
  await b.close()
  await Promise.all(serving)
})

each('many short connections', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0, backlog: 64 })
  const serving = echo(server)
  let ok = 0
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
        await c.write(`hi ${round}/${i}`)
        await c.end()
        if ((await readAll(c)).toString() === `hi ${round}/${i}`) ok++
        await c.close()
      }),
    )
  }
  t.is(ok, 300)
  await server.close()
  await serving
})

each('IPv6 loopback and Unix sockets', async (t, { ring, dir }) => {
  const v6 = await ring.net.listen({ host: '::1', port: 0 }).catch((e) => e)
  if (v6 instanceof Error) {
    t.is((v6 as any).code, 'EADDRNOTAVAIL', 'only a host without IPv6 may refuse ::1')
  } else {
    t.is((v6.address() as any).family, 'IPv6')
    const serving = echo(v6)
    const c = await ring.net.connect({ host: '::1', port: port(v6) })
    t.is(c.remoteFamily, 'IPv6')
    t.is(c.remoteAddress, '::1')
    await c.write('six')
    await c.end()
    t.is((await readAll(c)).toString(), 'six')
    await c.close()
    await v6.close()
    await serving
  }
  const path = join(dir, 'sock')
  const unix = await ring.net.listen({ path })
  t.is(unix.address(), path)
  t.true(existsSync(path))
  const serving = echo(unix)
  const c = await ring.net.connect({ path })
  await c.write('unix')
  await c.end()
  t.is((await readAll(c)).toString(), 'unix')
  await c.close()
  await unix.close()
  await serving
})

each('a Unix socket takes writes of 64 KiB and more (zero-copy sends fall back to copying)', async (t, { ring, dir }) => {
  // The kernel refuses zero-copy sends on AF_UNIX (EOPNOTSUPP); they used to fail the write.
  const path = join(dir, 'big.sock')
  const unix = await ring.net.listen({ path })
  const serving = echo(unix)
  const c = await ring.net.connect({ path })
  const sizes = [65536, 65536 * 3 + 17, 1 << 20]
  const sent = sizes.map((n, i) => Buffer.alloc(n, i + 1))
  for (const b of sent) await c.write(b)
  await c.end()
  const got = await readAll(c)
  t.is(
    got.length,
    sizes.reduce((a, b) => a + b, 0),
  )
  t.true(got.equals(Buffer.concat(sent)))
  await c.close()
  await unix.close()
  await serving
})

each('a server out of fds backs off instead of spinning, and accepts again once fds are free', async (t, { backend }) => {
  // Under ulimit -n 128 the fixture uses up every fd while 3 clients connect: each accept fails
  // with EMFILE. Re-arming at once spent a whole core (1,528 ms of CPU in 1.5 s before the
  // backoff); then it frees the fds and the clients must be served (io_uring; node:net's libuv
  // closes connections it cannot accept, so there they are not).
  const fixture = join(__dirname, 'fixtures/accept-emfile.cjs')
  const r = spawnSync('bash', ['-c', `ulimit -n 128; exec "${process.execPath}" "${fixture}" ${backend}`], { encoding: 'utf8', timeout: 30_000 })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.true(out.held > 50, `the fixture used up the fds: ${r.stdout}`)
  t.true(out.cpuMs < 300, `CPU spent while out of fds: ${out.cpuMs} ms in 1.5 s`)
  if (backend === 'io_uring') t.is(out.served, 3, 'every client served once fds were free')
  else t.log(`node:net served ${out.served} of 3 (libuv drops what it cannot accept)`)
})

each('half-close: after end() the peer reads null and can still answer', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const got = (async () => {
    const s = (await server.accept())!
    const all = await readAll(s) // ends at the client's end()
    await s.write(`got ${all.length}`)
    await s.close()
    return all.toString()
  })()
  const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
  t.is(c.remoteAddress, '127.0.0.1')
  t.is(c.remotePort, port(server))
  t.is(c.localAddress, '127.0.0.1')
  t.true((c.localPort ?? 0) > 0)
  await c.write('abc')
  await c.end()
  t.is(await got, 'abc')
  t.is((await readAll(c)).toString(), 'got 3')
  t.is(await c.read(), null, 'still null after the end')
  await c.close()
  t.is((await caught(() => c.write('late')))?.code, 'EPIPE')
  await server.close()
})

each('errors: ECONNREFUSED and EADDRINUSE as node:net shapes them; bad arguments', async (t, { ring }) => {
  const probe = await new Promise<nodeNet.Server>((resolve) => {
    const s = nodeNet.createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
  const busy = (probe.address() as nodeNet.AddressInfo).port
  // A port that was free a moment ago: nobody listens there now.
  const free = await new Promise<number>((resolve) => {
    const s = nodeNet.createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as nodeNet.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
  const theirs = await new Promise<any>((resolve) => nodeNet.connect(free, '127.0.0.1').on('error', resolve))
  t.deepEqual(netShape(await caught(() => ring.net.connect({ host: '127.0.0.1', port: free }))), netShape(theirs))
  const theirsListen = await new Promise<any>((resolve) => nodeNet.createServer().on('error', resolve).listen(busy, '127.0.0.1'))
  t.deepEqual(netShape(await caught(() => ring.net.listen({ host: '127.0.0.1', port: busy }))), netShape(theirsListen))
  probe.close()
  t.is((await caught(() => ring.net.connect({ host: '127.0.0.1', port: 0 })))?.code, 'ERR_OUT_OF_RANGE')
  t.is((await caught(() => ring.net.connect({ host: '127.0.0.1', port: 70000 })))?.code, 'ERR_OUT_OF_RANGE')
  t.is((await caught(() => ring.net.listen({ port: -1 })))?.code, 'ERR_OUT_OF_RANGE')
  t.is((await caught(() => ring.net.connect(null as any)))?.code, 'ERR_INVALID_ARG_TYPE')
  t.is((await caught(() => ring.net.connect({ host: 5 as any, port: 80 })))?.code, 'ERR_INVALID_ARG_TYPE')
  t.is((await caught(() => ring.net.connect({ path: '/nonexistent/uring.sock' })))?.code, 'ENOENT')
})

each('a peer that resets mid-stream ends that connection only; the server keeps serving', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const outcomes: string[] = []
  const serving = (async () => {
    for await (const s of server) {
      void (async () => {
        try {
          for await (const chunk of s) await s.write(chunk)
          outcomes.push('end')
        } catch (e) {
          outcomes.push((e as any).code)
        } finally {
          await s.close()
        }
      })()
    }
  })()
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const raw = nodeNet.connect(port(server), '127.0.0.1', () => {
        raw.write(Buffer.alloc(100000, 1))
        setTimeout(() => {
          raw.resetAndDestroy()
          resolve()
        }, 20)
      })
      raw.on('error', () => {})
    })
  }
  const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
  await c.write('still here')
  await c.end()
  t.is((await readAll(c)).toString(), 'still here')
  await c.close()
  await server.close()
  await serving
  await new Promise((r) => setTimeout(r, 50))
  t.true(outcomes.length >= 5, outcomes.join())
  t.true(
    outcomes.every((o) => ['ECONNRESET', 'EPIPE', 'end'].includes(o)),
    outcomes.join(),
  )
})

each('connect: an aborted signal and a timeout', async (t, { ring }) => {
  t.is((await caught(() => ring.net.connect({ host: '127.0.0.1', port: 1 }, { signal: AbortSignal.abort() })))?.name, 'AbortError')
  // A listener that never accepts (a Python child), its accept queue filled: the kernel then
  // drops new SYNs, so the next connect waits until it is given up.
  const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const p = await new Promise<number>((resolve) => py.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
    const fillers: nodeNet.Socket[] = []
    for (let i = 0; i < 3; i++) fillers.push(nodeNet.connect(p, '127.0.0.1').on('error', () => {}))
    await new Promise((r) => setTimeout(r, 100))
    const t0 = Date.now()
    const e = await caught(() => ring.net.connect({ host: '127.0.0.1', port: p }, { timeout: 150 }))
    t.is(e?.code, 'ETIMEDOUT', e?.message)
    t.is(e?.syscall, 'connect')
    t.true(Date.now() - t0 >= 140)
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('enough')), 50)
    const e2 = await caught(() => ring.net.connect({ host: '127.0.0.1', port: p }, { signal: ac.signal }))
    t.is(e2?.name, 'AbortError')
    for (const f of fillers) f.destroy()
  } finally {
    py.kill()
  }
  t.is(ring.stats().inFlight, 0)
})

each('connect: a signal reached through a Proxy is only read (aborted, reason), not listened to, on both backends', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  try {
    const accepted = server.accept()
    const ac = new AbortController()
    // As Node's tests wrap options: only what node:fs reads of a signal may be read.
    const strict = (signal: AbortSignal) => new Proxy(signal, { get: (s, k) => (k === 'aborted' || k === 'reason' ? Reflect.get(s, k) : t.fail(`read signal.${String(k)}`)) })
    const conn = await ring.net.connect({ host: '127.0.0.1', port: port(server) }, { signal: strict(ac.signal) })
    await (await accepted).close()
    await conn.close()
    const aborted = strict(AbortSignal.abort())
    t.is((await caught(() => ring.net.connect({ host: '127.0.0.1', port: port(server) }, { signal: aborted })))?.name, 'AbortError')
  } finally {
    await server.close()
  }
  t.is(ring.stats().inFlight, 0)
})

each('server.close() stops accepting; live connections keep working', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const p = port(server)
  const accepted = server.accept()
  const c = await ring.net.connect({ host: '127.0.0.1', port: p })
  const s = (await accepted)!
  await server.close()
  t.is(server.address(), null)
  t.is(await server.accept(), null)
  t.is((await caught(() => ring.net.connect({ host: '127.0.0.1', port: p })))?.code, 'ECONNREFUSED')
  await c.write('after close')
  t.is((await s.read())!.toString(), 'after close')
  await s.write('reply')
  t.is((await c.read())!.toString(), 'reply')
  await c.close()
  t.is(await s.read(), null)
  await s.close()
})

each('backpressure: a reader that does not read stops the writer (TCP flow control), nothing piles up', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const accepted = server.accept()
  const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
  const s = (await accepted)!
  const total = 64 << 20
  let written = false
  const writing = c.write(Buffer.alloc(total, 3)).then(() => (written = true))
  await new Promise((r) => setTimeout(r, 300))
  t.false(written, 'the write waits for the reader instead of everything being buffered')
  let got = 0
  while (got < total) {
    const chunk = await s.read()
    if (chunk === null) break
    got += chunk.length
  }
  await writing
  t.is(got, total)
  await c.close()
  await s.close()
  await server.close()
})

each('toStream(): a Duplex over the socket for stream-based code', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const serving = echo(server)
  const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
  const d = c.toStream()
  const chunks: Buffer[] = []
  d.on('data', (b: Buffer) => chunks.push(b))
  const ended = new Promise((r) => d.on('end', r))
  d.write('stream ')
  d.end('data')
  await ended
  t.is(Buffer.concat(chunks).toString(), 'stream data')
  d.destroy()
  await server.close()
  await serving
})

each('close() sends what was written before it; a write after close() fails with EPIPE', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const received = (async () => {
    const s = (await server.accept())!
    const all = await readAll(s)
    await s.close()
    return all.length
  })()
  const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
  const writes = [c.write(Buffer.alloc(3 << 20, 1)), c.write('tail'), c.write(Buffer.alloc(100000, 2))]
  const closing = c.close()
  t.is((await caught(() => c.write('late')))?.code, 'EPIPE')
  await Promise.all(writes)
  await closing
  t.is(await received, (3 << 20) + 4 + 100000)
  await server.close()
})

each(
  'a ring with 2 socket buffers of 16 bytes still echoes 64 KiB to 4 clients (receives re-armed when buffers run out)',
  async (t, { ring }) => {
    const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
    const serving = echo(server)
    const ok = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const data = Buffer.alloc(64 << 10, i + 1)
        const c = await ring.net.connect({ host: '127.0.0.1', port: port(server) })
        const [back] = await Promise.all([readAll(c), c.write(data).then(() => c.end())])
        await c.close()
        return back.equals(data)
      }),
    )
    t.deepEqual(ok, [true, true, true, true])
    await server.close()
    await serving
  },
  { socketBuffers: { count: 2, size: 16 } },
)

each('socketBuffers is checked', async (t, { backend }) => {
  const { Ring } = await import('uring')
  t.is(
    errorCode(() => new Ring({ backend, socketBuffers: { count: 3 } })),
    'ERR_INVALID_ARG_VALUE',
  )
  t.is(
    errorCode(() => new Ring({ backend, socketBuffers: { count: 65536 } })),
    'ERR_OUT_OF_RANGE',
  )
  t.is(
    errorCode(() => new Ring({ backend, socketBuffers: { size: 0 } })),
    'ERR_OUT_OF_RANGE',
  )
  t.is(
    errorCode(() => new Ring({ backend, socketBuffers: 5 as any })),
    'ERR_INVALID_ARG_TYPE',
  )
})

function errorCode(f: () => unknown): string | undefined {
  try {
    const r = f() as { close?: () => Promise<void> }
    void r?.close?.()
  } catch (e) {
    return (e as { code?: string }).code
  }
  return undefined
}

each('after ring.close(), a socket still closes its fd', async (t, { ring }) => {
  // A plain node:net peer sees the client's fd close; node:net can listen on the port again
  // only once the server's fd is closed.
  const peer = nodeNet.createServer()
  const peerClosed = new Promise<void>((resolve) =>
    peer.on('connection', (sock) =>
      sock
        .on('close', () => resolve())
        .on('error', () => {})
        .resume(),
    ),
  )
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve))
  const c = await ring.net.connect({ host: '127.0.0.1', port: (peer.address() as nodeNet.AddressInfo).port })
  await c.write('x')
  await ring.close()
  await c.close()
  await peerClosed
  peer.close()
  t.pass('the peer saw the close')
})

each('after ring.close(), a server closes its listening fd', async (t, { ring }) => {
  const server = await ring.net.listen({ host: '127.0.0.1', port: 0 })
  const p = port(server)
  await ring.close()
  await server.close()
  const again = await new Promise<unknown>((resolve) => {
    const n = nodeNet.createServer()
    n.once('error', resolve)
    n.listen(p, '127.0.0.1', () => n.close(() => resolve('listening')))
  })
  t.is(again, 'listening')
})
