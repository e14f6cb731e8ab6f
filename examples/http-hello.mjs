// A minimal keep-alive HTTP/1.1 responder on uring/net (no parser: one fixed response per
// request head, pipelining included) — the socket path measured by benchmarks/http.mjs.
// Usage: node examples/http-hello.mjs [port] [--node] [--await] [--workers N]
//   --node: the same on node:net; --await: each answer awaited before the next request is read
//   (`await socket.write(...)`, how most code is written; on node:net, the write's callback);
//   --workers N: N responders on one port, past one core: on uring/net N worker threads, each
//   with its own ring, listening with `reusePort`; with --node, node:cluster's N processes.
import cluster from 'node:cluster'
import net from 'node:net'
import { Worker, isMainThread } from 'node:worker_threads'
import { listen } from 'uring/net'

const RESP = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!')
const port = Number(process.argv[2] ?? 8080)
const awaited = process.argv.includes('--await')
const at = process.argv.indexOf('--workers')
const workers = at > 0 ? Number(process.argv[at + 1]) : 0

/** How many request heads (ending in CRLF CRLF) `d` holds. */
function heads(d) {
  let i = 0
  let n = 0
  while ((i = d.indexOf('\r\n\r\n', i)) !== -1) {
    n++
    i += 4
  }
  return n
}

function answer(n) {
  return n === 1 ? RESP : Buffer.concat(Array(n).fill(RESP))
}

if (process.argv.includes('--node') && workers > 0 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill()
    process.exit(0)
  })
} else if (!process.argv.includes('--node') && workers > 0 && isMainThread) {
  for (let i = 0; i < workers; i++) new Worker(new URL(import.meta.url), { argv: process.argv.slice(2) })
} else if (process.argv.includes('--node')) {
  net
    .createServer((s) => {
      s.setNoDelay(true)
      s.on('error', () => {})
      if (awaited) {
        ;(async () => {
          for await (const d of s) {
            const n = heads(d)
            if (n > 0) await new Promise((resolve, reject) => s.write(answer(n), (e) => (e ? reject(e) : resolve())))
          }
        })().catch(() => s.destroy())
        return
      }
      s.on('data', (d) => {
        const n = heads(d)
        if (n > 0) s.write(answer(n))
      })
    })
    .listen(port, '127.0.0.1', () => console.log(`node:net responder on 127.0.0.1:${port}`))
} else {
  const server = await listen({ host: '127.0.0.1', port, reusePort: workers > 0 })
  console.log(`uring/net responder on 127.0.0.1:${port}`)
  for await (const socket of server) {
    ;(async () => {
      try {
        for await (const d of socket) {
          const n = heads(d)
          if (n === 0) continue
          if (awaited) await socket.write(answer(n))
          // Not awaited: the next request is read while the answer goes out (writes stay in order).
          else socket.write(answer(n)).catch(() => {})
        }
      } catch {
        // a client that reset
      } finally {
        await socket.close()
      }
    })()
  }
}
