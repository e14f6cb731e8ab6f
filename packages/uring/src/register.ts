// `uring/register`: `node --require uring/register app.js` (or `--import uring/register`) makes
// node:fs/promises — also `fs.promises` and `fs/promises`, as every module of the process sees
// them, libraries included — run on uring, so an existing app gains io_uring without code changes.
//
// How: node:fs/promises, fs.promises and fs/promises are one object in Node; its functions are
// replaced by uring/fs's (each runs on the calling thread's default ring, falling back to node:fs
// where io_uring is unavailable), and `syncBuiltinESMExports` carries the change to the named
// exports that ES modules import. `constants` is left as it is. uring's own delegations to
// node:fs use the copy taken before this (./node-promises), never the replaced functions.
// Code that took a function out of the object before this ran (`const { readFile } = require(...)`
// at startup, before --require) keeps node's.
import { syncBuiltinESMExports } from 'node:module'
import * as ufs from './fs'

import live = require('node:fs/promises')

/** The names replaced (every function of node:fs/promises that uring/fs has). */
export const replaced: readonly string[] = replace()

function replace(): string[] {
  const target = live as unknown as Record<string, unknown>
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
