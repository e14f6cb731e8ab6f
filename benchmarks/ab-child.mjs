// One contender of ab.mjs in a fresh process: FileHandle.read at a queue depth, through the uring
// package at ROOT (a checkout's packages/uring) or through node:fs/promises ('node').
// ROOT:sab reads into SharedArrayBuffer-backed Buffers (what ring.allocBuffer gives); a
// ':touch' suffix (ROOT:touch, node:touch) reads a byte of every cache line after each read, as
// a consumer of the data would.
// Usage: node ab-child.mjs ROOT[:sab]|node FILE QD MS
import fs from 'node:fs'
import { open as nodeOpen } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { BS, readLoop } from './lib.mjs'

const [spec, file, qd, ms] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])]
const [root, ...kinds] = spec.split(':')
const kind = kinds[0]
const blocks = Math.floor(fs.statSync(file).size / BS)
const open = root === 'node' ? nodeOpen : (await import(pathToFileURL(path.join(root, 'dist/fs.mjs')).href)).open
const fh = await open(file, 'r')
const alloc = kind === 'sab' ? (n) => Buffer.from(new SharedArrayBuffer(n)) : undefined
let sink = 0
const touch = kinds.includes('touch')
  ? (b) => {
      for (let i = 0; i < b.length; i += 64) sink ^= b[i]
    }
  : undefined
const r = await readLoop(fh, blocks, qd, ms, 300, alloc, touch)
if (sink === 0.5) console.error(sink) // keeps the reads of `touch` alive
await fh.close()
process.stdout.write(JSON.stringify(r))
