// readableWebStream's chunks as the Node 22+ lines give them (checked with @types/node 22 and
// 24): always a byte stream of Uint8Arrays.
import type * as ufs from '../../packages/uring/dist/fs'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const chunk: Equal<ufs.WebStreamChunk, Uint8Array> = true
export function streams(fh: ufs.FileHandle): void {
  const bytes: ReadableStream<Uint8Array> = fh.readableWebStream({ type: 'bytes', autoClose: true })
  const plain: ReadableStream<Uint8Array> = fh.readableWebStream({ autoClose: true })
  void [bytes, plain]
}
