// readableWebStream's chunks as the Node 20 line gives them (checked with @types/node 20): a byte
// stream's are Uint8Arrays, a default stream's ArrayBuffers.
import type * as ufs from '../../packages/uring/dist/fs'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const chunk: Equal<ufs.WebStreamChunk, ArrayBuffer> = true
export function streams(fh: ufs.FileHandle): void {
  const bytes: ReadableStream<Uint8Array> = fh.readableWebStream({ type: 'bytes' })
  const plain: ReadableStream<ArrayBuffer> = fh.readableWebStream()
  // @ts-expect-error Node 20's default stream has ArrayBuffer chunks, not Uint8Arrays
  const wrong: ReadableStream<Uint8Array> = fh.readableWebStream()
  void [bytes, plain, wrong]
}
