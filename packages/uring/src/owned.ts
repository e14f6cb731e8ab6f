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

/**
 * A view's byte length and offset as Node's binding sees them: 0 once its ArrayBuffer was
 * detached (a detached DataView's getters throw; a detached TypedArray's say 0).
 */
export function extent(v: NodeJS.ArrayBufferView): { offset: number; length: number } {
  try {
    return { offset: v.byteOffset, length: v.byteLength }
  } catch {
    return { offset: 0, length: 0 }
  }
}

/** `v.byteLength`, or 0 once its ArrayBuffer was detached (a detached DataView's getter throws). */
export function byteLength(v: NodeJS.ArrayBufferView): number {
  try {
    return v.byteLength
  } catch {
    return 0
  }
}

/** `length` bytes at `offset` of `v`, as a Uint8Array over its memory (empty for no bytes). */
function bytesOf(v: NodeJS.ArrayBufferView, offset: number, length: number): Uint8Array {
  return length === 0 ? new Uint8Array(0) : new Uint8Array(v.buffer, extent(v).offset + offset, length)
}

/** Bytes `offset..offset + length` of `v`, copied now unless they are a SharedArrayBuffer's. */
export function source(v: NodeJS.ArrayBufferView, offset: number, length: number): Uint8Array {
  const bytes = bytesOf(v, offset, length)
  if (shared(v)) return bytes
  const copy = Buffer.allocUnsafeSlow(length)
  copy.set(bytes)
  return copy
}

/** One buffer holding all of `vs`, copied now (or `vs` itself when all are SharedArrayBuffers'). */
export function sources(vs: NodeJS.ArrayBufferView[]): NodeJS.ArrayBufferView[] {
  if (vs.every(shared)) return vs
  return [Buffer.concat(vs.map((v) => bytesOf(v, 0, extent(v).length)))]
}

/** Where a read's bytes go: `length` bytes at `at` of an ArrayBuffer, as asked for. */
export interface Dest {
  buffer: ArrayBufferLike
  at: number
  length: number
}

/** `offset..offset + length` of `v`, recorded when the read is asked for. */
export function dest(v: NodeJS.ArrayBufferView, offset: number, length: number): Dest {
  return { buffer: v.buffer, at: extent(v).offset + offset, length }
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
