// Load for the echo benchmark: CONNS node:net clients, each sending a SIZE-byte message and
// sending the next once the whole echo came back, for SECONDS. Prints { messages, bytes } per second.
// Usage: node benchmarks/echo-load.mjs PORT SIZE CONNS SECONDS
import net from 'node:net'

const [port, size, conns, seconds] = process.argv.slice(2).map(Number)
const msg = Buffer.alloc(size, 0x61)
let messages = 0
let measuring = false
let stop = false
const clients = []
await Promise.all(
  Array.from(
    { length: conns },
    () =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve())
        s.on('error', reject)
        clients.push(s)
        let got = 0
        s.on('data', (d) => {
          got += d.length
          while (got >= size) {
            got -= size
            if (measuring) messages++
            if (!stop) s.write(msg)
          }
        })
      }),
  ),
)
for (const s of clients) s.write(msg)
await new Promise((r) => setTimeout(r, 300))
measuring = true
const t0 = performance.now()
await new Promise((r) => setTimeout(r, seconds * 1000))
measuring = false
const secs = (performance.now() - t0) / 1000
stop = true
for (const s of clients) s.destroy()
process.stdout.write(JSON.stringify({ messages: messages / secs, bytes: (messages * size) / secs }))
