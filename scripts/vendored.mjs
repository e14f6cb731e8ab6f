// Copies kept unmodified in the tree (Node's tests, a third-party package's tests), each listed
// with its sha256 in a SOURCE.json: the hash, and the check that every listed file still has it.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The sha256 of a file's bytes, in hex. */
export function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** The files of `files` (relative path → sha256) under `dir` whose bytes no longer match. */
export function changedFiles(dir, files) {
  return Object.entries(files)
    .filter(([f, sha]) => sha256(join(dir, f)) !== sha)
    .map(([f]) => f)
}
