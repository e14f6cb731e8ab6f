// An echo server on uring/net: every connection gets back what it sends.
// Usage: node examples/echo.mjs [port]   (then e.g. `nc 127.0.0.1 8080`)
import { listen } from 'uring/net'

const server = await listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 8080) })
console.log('echo server on', server.address())
for await (const socket of server) {
  ;(async () => {
    try {
      for await (const chunk of socket) await socket.write(chunk)
      await socket.end()
    } catch (e) {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') console.error(e)
    } finally {
      await socket.close()
    }
  })()
}
