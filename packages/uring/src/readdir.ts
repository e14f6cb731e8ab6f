// readdir on the ring: node:fs/promises' `readdir`, its entries read by the ring's executor (open
// → getdents64 → close, in Rust: no io_uring opcode reads a directory) instead of libuv's thread
// pool, in Node's order (libuv's scandir sorts names byte by byte), as Node's strings, Buffers or
// Dirents (Node's own class). What this path does not do runs on node:fs, as before: `recursive`,
// encodings other than UTF-8 and 'buffer', a backend without an executor, and a directory whose
// file system leaves an entry's type unknown (Node then asks lstat for each such entry).
import { Dirent } from 'node:fs'
import type { Backend } from './backend'
import { nodeFsP } from './node-promises'
import { getOptions, getValidatedPath } from './validate'

/** Encodings whose names the binding makes itself (UTF-8 strings, invalid bytes replaced as Node's). */
const UTF8 = new Set([undefined, null, 'utf8', 'utf-8', 'UTF8', 'UTF-8'])

/** `readdir(path, options)` of node:fs/promises on `backend`. Throws what Node's rejects with (the caller makes it a rejection). */
export function readdir(backend: Backend, path: unknown, options: unknown): Promise<unknown> {
  const o = getOptions(options, {}) as { encoding?: string | null; withFileTypes?: unknown; recursive?: unknown }
  const p = getValidatedPath(path)
  const buffers = o.encoding === 'buffer'
  const listing = o.recursive || !(buffers || UTF8.has(o.encoding)) ? undefined : backend.scandir?.(p, buffers)
  if (listing === undefined) return onNode(backend, path, options)
  if (!o.withFileTypes) return listing.then(([names]) => names)
  return listing.then(([names, types]) => {
    if (types.includes(0)) return onNode(backend, path, options)
    const out = new Array<Dirent>(names.length)
    // Node's own class, as its readdir makes them (name, UV_DIRENT_* type, the path as given).
    for (let i = 0; i < names.length; i++) out[i] = new (Dirent as any)(names[i], types[i], p)
    return out
  })
}

function onNode(backend: Backend, path: unknown, options: unknown): Promise<unknown> {
  return backend.delegate('readdir', () => nodeFsP.readdir(path as any, options as any))
}
