// One contender run in a child process (so that UV_USE_IO_URING=1 applies to its libuv): `qd`
// chains of node:fs `fs.read` callbacks, each reading a random 4 KiB block and starting the next
// from its callback — libuv's cheapest path, with no promise per read.
// Usage: node node-cb-child.mjs FILE QD MS
import fs from 'node:fs'
import { BS, blocksOf, runClock } from './lib.mjs'

const [file, qd, ms] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const next = blocksOf(Math.floor(fs.statSync(file).size / BS))
const fd = fs.openSync(file, 'r')
const clock = runClock(ms)
let running = qd
function worker() {
  const b = Buffer.alloc(BS)
  const done = (err, n) => {
    if (err) throw err
    if (n !== BS) throw new Error(`short read: ${n}`)
    clock.count(1)
    if (!clock.stopped) fs.read(fd, b, 0, BS, next() * BS, done)
    else if (--running === 0) {
      fs.closeSync(fd)
      process.stdout.write(JSON.stringify(clock.result()))
    }
  }
  fs.read(fd, b, 0, BS, next() * BS, done)
}
for (let i = 0; i < qd; i++) worker()
