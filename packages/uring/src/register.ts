// `uring/register`: `node --require uring/register app.js` (or `--import uring/register`) makes
// node:fs/promises — also `fs.promises` and `fs/promises`, as every module of the process sees
// them, libraries included — run on uring, so an existing app gains io_uring without code changes.
//
// How: node:fs/promises, fs.promises and fs/promises are one object in Node; its functions are
// replaced by uring/fs's (each runs on the calling thread's default ring, falling back to node:fs
// where io_uring is unavailable), and `syncBuiltinESMExports` carries the change to the named
// exports that ES modules import. `constants` is left as it is. uring's own delegations to
// node:fs use the copy taken before this (./node-promises), never the replaced functions.
// Code that took a function out of the object before this ran keeps node's.
//
// A uring FileHandle is then also one where node:fs checks for its own: node:fs streams take it
// as `options.fd` (`fs.createReadStream(null, { fd: fh })`), which `instanceof` Node's FileHandle
// decides. Node's class is internal, so it is found from a handle of node's own, opened once, and
// put under uring's in the prototype chain; the internal methods those streams call on it (kRef,
// kUnref, and Node 24's kCloseSync, found by their names) are given uring's meaning. Every other
// method is uring's own. Until that first open completes, uring's `open` waits for it.
import { syncBuiltinESMExports } from 'node:module'
import { FileHandle } from './file-handle'
import * as ufs from './fs'
import { nodeFsP } from './node-promises'

import live = require('node:fs/promises')

const target = live as unknown as Record<string, unknown>

/** The names replaced (every function of node:fs/promises that uring/fs has). */
export const replaced: readonly string[] = replace()

function replace(): string[] {
  const ours = ufs as unknown as Record<string, unknown>
  const names: string[] = []
  for (const name of Object.keys(target)) {
    if (name === 'constants') continue
    const f = ours[name]
    if (typeof f !== 'function' || typeof target[name] !== 'function' || target[name] === f) continue
    target[name] = f
    names.push(name)
  }
  syncBuiltinESMExports()
  return names
}

/** The prototype of Node's own FileHandle class, from a handle opened (and closed) once. */
async function linkFileHandle(): Promise<void> {
  const probe = await nodeFsP.open(__filename, 'r')
  const node = Object.getPrototypeOf(probe) as object
  await probe.close()
  if (Object.getPrototypeOf(FileHandle.prototype) === node) return
  const named = (name: string) => Object.getOwnPropertySymbols(node).find((s) => s.description === name)
  const methods: Array<[string, (this: FileHandle) => void]> = [
    ['kRef', function (this: FileHandle) { this._ref() }],
    ['kUnref', function (this: FileHandle) { this._unref() }],
    ['kCloseSync', function (this: FileHandle) { this._closeSync() }],
  ]
  for (const [name, f] of methods) {
    const sym = named(name)
    if (sym !== undefined) Object.defineProperty(FileHandle.prototype, sym, { value: f, writable: true, configurable: true })
  }
  Object.setPrototypeOf(FileHandle.prototype, node)
}

const linked = linkFileHandle().catch(() => {
  // Without it uring still works; only node:fs streams refuse its handles, as without register.
})
const open = ufs.open
target.open = async function open_(...args: Parameters<typeof open>) {
  await linked
  return open(...args)
}
syncBuiltinESMExports()
void linked.then(() => {
  target.open = open
  syncBuiltinESMExports()
})
