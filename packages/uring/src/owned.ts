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

/** Copies the first `n` bytes of `from` into `to` from `offset`, clipped to `to` as it is now. */
export function copyOut(from: Uint8Array, n: number, to: NodeJS.ArrayBufferView, offset: number): void {
  const m = Math.min(n, to.byteLength - offset)
  if (m > 0) new Uint8Array(to.buffer, to.byteOffset + offset, m).set(from.subarray(0, m))
}

/** The byte lengths of `vs` when a readv was asked for (the kernel fills them in that order). */
export function lengths(vs: NodeJS.ArrayBufferView[]): number[] {
  return vs.map((v) => v.byteLength)
}

/**
 * Scatters the first `n` bytes of `from` over `tos` in order — each takes the length it had when
 * the readv was asked for (`asked`), as the kernel filled them — each clipped as in `copyOut`.
 */
export function scatter(from: Uint8Array, n: number, tos: NodeJS.ArrayBufferView[], asked: number[]): void {
  let at = 0
  for (let i = 0; i < tos.length && at < n; i++) {
    copyOut(from.subarray(at), Math.min(asked[i], n - at), tos[i], 0)
    at += asked[i]
  }
}
