// One contender run in a child process (so that UV_USE_IO_URING=1 applies to its libuv): `qd`
// chains of node:fs `fs.read` callbacks, each reading a random 4 KiB block and starting the next
// from its callback — libuv's cheapest path, with no promise per read.
// Usage: node node-cb-child.mjs FILE QD MS
import fs from 'node:fs'
import { BS } from './lib.mjs'

const [file, qd, ms] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const blocks = Math.floor(fs.statSync(file).size / BS)
const fd = fs.openSync(file, 'r')
let seed = 1
const next = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % blocks
}
let phase = 0
let ops = 0
let t0 = 0n
let t1 = 0n
let running = qd
setTimeout(() => {
  phase = 1
  ops = 0
  t0 = process.hrtime.bigint()
  setTimeout(() => {
    t1 = process.hrtime.bigint()
    phase = 2
  }, ms)
}, 300)
function worker() {
  const b = Buffer.alloc(BS)
  const done = (err, n) => {
    if (err) throw err
    if (n !== BS) throw new Error(`short read: ${n}`)
    if (phase === 1) ops++
    if (phase !== 2) fs.read(fd, b, 0, BS, next() * BS, done)
    else if (--running === 0) {
      fs.closeSync(fd)
      process.stdout.write(JSON.stringify({ ops, seconds: Number(t1 - t0) / 1e9 }))
    }
  }
  fs.read(fd, b, 0, BS, next() * BS, done)
}
for (let i = 0; i < qd; i++) worker()
