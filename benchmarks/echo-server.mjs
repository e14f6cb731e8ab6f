// The echo server the echo benchmark drives: uring/net, or node:net with --node.
// Usage: node benchmarks/echo-server.mjs PORT [--node]
import net from 'node:net'
import { listen } from 'uring/net'

const port = Number(process.argv[2])
if (process.argv.includes('--node')) {
  net
    .createServer((s) => {
      s.setNoDelay(true)
      s.on('data', (d) => s.write(d))
      s.on('error', () => {})
    })
    .listen(port, '127.0.0.1')
} else {
  const server = await listen({ host: '127.0.0.1', port, backlog: 2048 })
  for await (const s of server) {
    ;(async () => {
      try {
        for await (const d of s) s.write(d).catch(() => {})
      } catch {}
      await s.close()
    })()
  }
}
