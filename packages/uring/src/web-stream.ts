// FileHandle.readableWebStream: a WHATWG ReadableStream of the file, as the running Node line makes
// it (Node 20: ArrayBuffer chunks unless `type: 'bytes'`; Node 22+: always a byte stream).
import { ReadableStream } from 'node:stream/web'
import type { ReadableWebStreamOptions } from './fs-types'
import { NODE_MAJOR, validateBoolean, validateObject, validateString } from './validate'

/** What the stream uses of its FileHandle (this module does not import it: FileHandle makes the stream). */
export interface WebStreamHandle {
  _ref(): void
  _unref(): void
  _readFresh(buffer: Buffer, length: number, position: number | null): Promise<number>
  read(buffer: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesRead: number }>
  close(): Promise<void>
  once(event: 'close', listener: () => void): unknown
}

/**
 * @internal The stream of `fh`, which its caller has just locked (checked open, not closing, not
 * locked before). As Node's: the handle stays locked (a second stream is refused, even after the
 * first ended; also when the options below are refused) and referenced until the stream ends or
 * is cancelled, so close() waits for that; closing the handle ends the stream, as a cancel would.
 */
export function webStream(fh: WebStreamHandle, options: ReadableWebStreamOptions | undefined): ReadableStream<Uint8Array | ArrayBuffer> {
  let autoClose = false
  if (NODE_MAJOR >= 22) {
    // Node 22+: always a byte stream; a `type` other than 'bytes' only warns.
    if (options !== undefined) validateObject(options, 'options')
    const { type = 'bytes', autoClose: ac = false } = options ?? {}
    validateBoolean(ac, 'options.autoClose')
    autoClose = ac
    if (type !== 'bytes') process.emitWarning('A non-"bytes" options.type has no effect. A byte-oriented steam is always created.', 'ExperimentalWarning')
  } else if (options?.type !== undefined) validateString(options.type, 'options.type')
  const bytes = NODE_MAJOR >= 22 || options?.type === 'bytes'
  let finished = false
  const finish = (): boolean => {
    if (finished) return false
    finished = true
    fh._unref()
    return true
  }
  const done = (): Promise<void> => (finish() && autoClose ? fh.close() : Promise.resolve())
  let ctl: ReadableStreamDefaultController<ArrayBuffer> | ReadableByteStreamController | undefined
  fh._ref()
  fh.once('close', () => {
    if (!finish()) return
    try {
      ctl?.close()
      ;(ctl as ReadableByteStreamController | undefined)?.byobRequest?.respond(0)
    } catch {
      // already closed or errored
    }
  })
  if (!bytes) {
    return new ReadableStream<ArrayBuffer>({
      start: (controller) => void (ctl = controller),
      pull: async (controller) => {
        const buf = Buffer.allocUnsafeSlow(65536)
        const bytesRead = await fh._readFresh(buf, buf.length, null)
        if (finished) return
        if (bytesRead === 0) {
          await done()
          return controller.close()
        }
        controller.enqueue(buf.buffer.slice(0, bytesRead))
      },
      cancel: () => done(),
    })
  }
  return new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: 16384,
    start: (controller) => void (ctl = controller),
    pull: async (controller) => {
      const view = controller.byobRequest!.view!
      const { bytesRead } = await fh.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 0, view.byteLength, null)
      if (finished) return
      if (bytesRead === 0) {
        await done()
        controller.close()
      }
      controller.byobRequest!.respond(bytesRead)
    },
    cancel: () => done(),
  })
}
