// Compile-time checks of the batch API's types (compiled by batch.spec.ts with tsc --noEmit):
// results follow the ops, and wrong ops do not compile.
import type { Stats } from 'node:fs'
import type { FileHandle, Ring } from 'uring'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assert<T extends true>(): T | void {}

export async function check(ring: Ring, fh: FileHandle): Promise<void> {
  const r = await ring.batch([
    { op: 'read', fd: 3, buffer: Buffer.alloc(1) },
    { op: 'stat', path: 'x' },
    { op: 'readFile', path: 'y' },
    { op: 'fsync', fd: 3 },
  ])
  assert<Equal<typeof r, [PromiseSettledResult<number>, PromiseSettledResult<Stats>, PromiseSettledResult<Buffer>, PromiseSettledResult<undefined>]>>()
  const l = await fh.link([{ op: 'write', buffer: new Uint8Array(4), position: 0 }, { op: 'fdatasync' }, { op: 'fstat' }])
  assert<Equal<typeof l, [PromiseSettledResult<number>, PromiseSettledResult<undefined>, PromiseSettledResult<Stats>]>>()
  // An array built at run time gives an array of results.
  const many = await fh.batch([1, 2].map((position) => ({ op: 'read' as const, buffer: Buffer.alloc(1), position })))
  assert<Equal<typeof many, PromiseSettledResult<number>[]>>()
  // @ts-expect-error: a FileHandle's batch has no close (the handle's close() does that)
  await fh.batch([{ op: 'close' }])
  // @ts-expect-error: unknown op
  await ring.batch([{ op: 'frobnicate' }])
  // @ts-expect-error: a read needs a buffer
  await ring.batch([{ op: 'read', fd: 1 }])
  // @ts-expect-error: ring ops need their fd
  await ring.link([{ op: 'fsync' }])
  await ring.read(3, Buffer.alloc(1), 0, { signal: AbortSignal.timeout(1) })
  // @ts-expect-error: options are an object
  await ring.nop('fast')
}
