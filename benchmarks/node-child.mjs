// One contender run in a child process (so that environment variables such as
// UV_USE_IO_URING=1 apply to its libuv): node:fs/promises FileHandle.read.
// Usage: node node-child.mjs FILE QD MS
import fs from 'node:fs'
import { open } from 'node:fs/promises'
import { BS, readLoop } from './lib.mjs'

const [file, qd, ms] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const blocks = Math.floor(fs.statSync(file).size / BS)
const fh = await open(file, 'r')
const r = await readLoop(fh, blocks, qd, ms)
await fh.close()
process.stdout.write(JSON.stringify(r))
