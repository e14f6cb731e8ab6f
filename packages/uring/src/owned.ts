// Memory the node:fs backend's ops own, as the native ring's do (crates/uring-napi/src/keep.rs):
// libuv's thread pool reads and writes the buffer it was given until the op completes, so a
// buffer user code could detach (transfer), shrink (resizable ArrayBuffer) or change meanwhile
// is not handed to it. A write's bytes are copied when the call is made; a read lands in a
// buffer of the op's own and is copied into the caller's buffer at completion, as that buffer is
// then: not at all if it was detached, never past its current end. SharedArrayBuffers (which
// cannot be detached or shrunk) and buffers the library allocated itself are used in place.
import { types } from 'node:util'

/** Whether `v`'s memory can be used in place: a SharedArrayBuffer's. */
export function shared(v: NodeJS.ArrayBufferView): boolean {
  return types.isSharedArrayBuffer(v.buffer)
}

/** Bytes `offset..offset + length` of `v`, copied now unless they are a SharedArrayBuffer's. */
export function source(v: NodeJS.ArrayBufferView, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(v.buffer, v.byteOffset + offset, length)
  if (shared(v)) return bytes
  const copy = Buffer.allocUnsafeSlow(length)
  copy.set(bytes)
  return copy
}

/** One buffer holding all of `vs`, copied now (or `vs` itself when all are SharedArrayBuffers'). */
export function sources(vs: NodeJS.ArrayBufferView[]): NodeJS.ArrayBufferView[] {
  if (vs.every(shared)) return vs
  return [Buffer.concat(vs.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)))]
}

/** Where a read's bytes go: `length` bytes at `at` of an ArrayBuffer, as asked for. */
export interface Dest {
  buffer: ArrayBufferLike
  at: number
  length: number
}

/** `offset..offset + length` of `v`, recorded when the read is asked for. */
export function dest(v: NodeJS.ArrayBufferView, offset: number, length: number): Dest {
  return { buffer: v.buffer, at: v.byteOffset + offset, length }
}

/**
 * Copies the first `n` bytes of `from` into `to`s in order (a readv fills them in turn), each
 * clipped to its ArrayBuffer as it is now: nothing once detached, nothing past a shrunk end.
 * (The native ring does the same: crates/uring-napi/src/keep.rs.)
 */
export function copyOut(from: Uint8Array, n: number, ...to: Dest[]): void {
  let done = 0
  for (const d of to) {
    if (done >= n) break
    const take = Math.min(d.length, n - done)
    const m = Math.min(take, d.buffer.byteLength - d.at)
    if (m > 0) new Uint8Array(d.buffer, d.at, m).set(from.subarray(done, done + m))
    done += take
  }
}
