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
//
// A uring FileHandle then also goes into a worker's transferList, as Node's (see linkFileHandle):
// the worker receives a Node FileHandle of the same open file.
import { syncBuiltinESMExports } from 'node:module'
import { FileHandle } from './file-handle'
import * as ufs from './fs'
import { loadNative } from './native'
import { nodeFsP } from './node-promises'
import type * as nodeFsPTypes from 'node:fs/promises'

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

/**
 * Puts Node's FileHandle class under uring's, found from a handle of node's own (opened once and
 * kept: it is the first carrier of a worker transfer, below). uring's constructor then runs
 * Node's (its `super()`), which marks each handle as one Node's messaging may transfer.
 */
async function linkFileHandle(): Promise<void> {
  const probe = await nodeFsP.open(__filename, 'r')
  const node = Object.getPrototypeOf(probe) as object
  if (Object.getPrototypeOf(FileHandle.prototype) === node) return void probe.close()
  const named = (of: object, name: string) => Object.getOwnPropertySymbols(of).find((s) => s.description === name)
  const kHandle = named(probe, 'kHandle')
  const kTransfer = named(node, 'messaging_transfer_symbol')
  const kTransferList = named(node, 'messaging_transfer_list_symbol')
  // Transferable only where Node's internals are the known ones and the binding gives dup3.
  const transferable = kHandle !== undefined && kTransfer !== undefined && kTransferList !== undefined && dupOnto !== undefined
  const methods: Array<[symbol | undefined, (this: FileHandle) => unknown]> = [
    [
      named(node, 'kRef'),
      function (this: FileHandle) {
        this._ref()
      },
    ],
    [
      named(node, 'kUnref'),
      function (this: FileHandle) {
        this._unref()
      },
    ],
    [
      named(node, 'kCloseSync'),
      function (this: FileHandle) {
        this._closeSync()
      },
    ],
  ]
  if (transferable) {
    // A worker transfer, as Node's own: messaging asks for the list of native handles to move
    // (kTransferList), then for the data (kTransfer). The handle moved is a carrier's, a Node
    // FileHandle opened ahead (no synchronous way makes one) whose fd is made a descriptor of
    // uring's file (dup3: same offset and flags); uring's handle is then closed, without a 'close'
    // event, as Node's is. The worker receives a Node FileHandle (its ops run on node:fs there).
    methods.push(
      [
        kTransferList,
        function (this: FileHandle) {
          this._giveAway(true)
          return [(carrierFor(this) as unknown as Record<symbol, unknown>)[kHandle]]
        },
      ],
      [
        kTransfer,
        function (this: FileHandle) {
          const carrier = carrierFor(this)
          this._giveAway(false, (fd) => dupOnto(fd, carrier.fd))
          picked.delete(this)
          const next = refill()
          gate ??= next.then(() => void (gate = undefined))
          return (carrier as unknown as Record<symbol, () => unknown>)[kTransfer]()
        },
      ],
    )
    spare = probe
  } else void probe.close()
  for (const [sym, f] of methods) {
    if (sym !== undefined) Object.defineProperty(FileHandle.prototype, sym, { value: f, writable: true, configurable: true })
  }
  Object.setPrototypeOf(FileHandle.prototype, node)
  if (transferable) Object.setPrototypeOf(FileHandle, node.constructor)
}

const dupOnto = loadNative().binding?.dupOnto
/** The carrier ready for the next transfer (one at a time; another is opened after each use). */
let spare: nodeFsPTypes.FileHandle | undefined
/** Carriers taken by a transfer under way (kTransferList came, kTransfer not yet). */
const picked = new WeakMap<FileHandle, nodeFsPTypes.FileHandle>()

function carrierFor(fh: FileHandle): nodeFsPTypes.FileHandle {
  let carrier = picked.get(fh)
  if (carrier !== undefined) return carrier
  carrier = spare
  if (carrier === undefined)
    throw new DOMException('Cannot transfer FileHandle now: uring/register is still opening the Node FileHandle that carries one (one transfer at a time; retry after an await)', 'DataCloneError')
  spare = undefined
  picked.set(fh, carrier)
  // The transfer failed after kTransferList (another object of the list, say): the carrier is kept.
  queueMicrotask(() => {
    if (picked.get(fh) !== carrier) return
    picked.delete(fh)
    if (spare === undefined) spare = carrier
    else void carrier!.close()
  })
  return carrier
}

async function refill(): Promise<void> {
  try {
    const fh = await nodeFsP.open(__filename, 'r')
    if (spare === undefined) spare = fh
    else await fh.close()
  } catch {
    // Without a carrier the next transfer throws its DataCloneError.
  }
}

/**
 * While set, opens wait for it: first the link above (a FileHandle made before it would be
 * neither a Node FileHandle nor transferable), then, after each transfer, the next carrier, so
 * that a handle opened after a transfer can be transferred too.
 */
let gate: Promise<void> | undefined = linkFileHandle().then(
  () => void (gate = undefined),
  () => void (gate = undefined), // Without it uring still works; only node:fs streams refuse its handles, as without register.
)
const uopen = ufs.open
target.open = function open(...args: Parameters<typeof uopen>) {
  return gate === undefined ? uopen(...args) : gate.then(() => uopen(...args))
}
syncBuiltinESMExports()
