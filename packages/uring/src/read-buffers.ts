// The first-read buffers of chained readFiles (backend-uring.ts): views of SharedArrayBuffers, so
// the kernel writes into them in place, pooled for reuse.

/** Size of each of a chained readFile's two reads (larger files read on). */
const FIRST_READ = 64 * 1024
/** Buffers kept for reuse: two per chain, for 64 chains in flight. */
const POOLED = 128
/** Buffers cut from one SharedArrayBuffer when the pool is empty (1 MiB). */
const PER_SLAB = 16

export class ReadBuffers {
  readonly #idle: Buffer[] = []

  /** A buffer of FIRST_READ bytes, idle or new. */
  take(): Buffer {
    const b = this.#idle.pop()
    if (b !== undefined) return b
    // Cut from one SharedArrayBuffer: one allocation (and one reference while in flight, which
    // the binding shares between views of the same memory) for many chains. A slab is freed once
    // none of its buffers is pooled or in use.
    const slab = new SharedArrayBuffer(FIRST_READ * PER_SLAB)
    for (let i = 1; i < PER_SLAB; i++) this.#idle.push(Buffer.from(slab, i * FIRST_READ, FIRST_READ))
    return Buffer.from(slab, 0, FIRST_READ)
  }

  /** Takes back a chain's two buffers, once no op uses them. */
  give(a: Buffer, b: Buffer): void {
    if (this.#idle.length < POOLED) this.#idle.push(a, b)
    else if (this.#idle.length > POOLED) this.#idle.length = POOLED
  }
}
