// A minimal keep-alive HTTP/1.1 responder on uring/net (no parser: one fixed response per
// request head, pipelining included) — the socket path measured by benchmarks/http.mjs.
// Usage: node examples/http-hello.mjs [port] [--node] [--await]
//   --node: the same on node:net; --await: each answer awaited before the next request is read
//   (`await socket.write(...)`, how most code is written; on node:net, the write's callback).
import net from 'node:net'
import { listen } from 'uring/net'

const RESP = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!')
const port = Number(process.argv[2] ?? 8080)
const awaited = process.argv.includes('--await')

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

if (process.argv.includes('--node')) {
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
  const server = await listen({ host: '127.0.0.1', port })
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
