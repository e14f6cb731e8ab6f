// The public types of the node:fs/promises-shaped API: options, results, the data writeFile takes.
import type { Stream } from 'node:stream'
import type { PathLike } from './validate'

export type { PathLike }
export type OpenMode = string | number
export type Mode = string | number
export type Encoding = BufferEncoding | 'buffer' | null
/** A Buffer over an ordinary ArrayBuffer, as readFile gives (@types/node's `NonSharedBuffer`). */
export type NonSharedBuffer = Buffer<ArrayBuffer>

/** The result of `FileHandle.read`. */
export interface FileReadResult<T extends NodeJS.ArrayBufferView = Buffer> {
  bytesRead: number
  buffer: T
}
/** The result of `FileHandle.write`. */
export interface FileWriteResult<T = Buffer> {
  bytesWritten: number
  buffer: T
}
export interface ReadVResult<T extends readonly NodeJS.ArrayBufferView[]> {
  bytesRead: number
  buffers: T
}
export interface WriteVResult<T extends readonly NodeJS.ArrayBufferView[]> {
  bytesWritten: number
  buffers: T
}
export interface FileReadOptions<T extends NodeJS.ArrayBufferView = Buffer> {
  buffer?: T
  offset?: number | null
  length?: number | null
  position?: number | bigint | null
}
export interface StatOptions {
  bigint?: boolean
}
export interface ReadFileOptions {
  encoding?: Encoding
  flag?: OpenMode
  signal?: AbortSignal
  /**
   * Where the running Node's readFile takes it (Node 24.18+): the buffer to read into (the result
   * is a Buffer over it; ERR_INVALID_ARG_VALUE when the file is larger), or a function given the
   * file's size (0 when unknown) that returns one. Ignored on earlier Nodes, as by Node.
   */
  buffer?: NodeJS.ArrayBufferView | ((size: number) => NodeJS.ArrayBufferView)
}
export interface WriteFileOptions {
  encoding?: BufferEncoding | null
  mode?: Mode
  flag?: OpenMode
  signal?: AbortSignal
  /** fsync the file before closing it (path form only, as in Node). */
  flush?: boolean
}
export interface MakeDirectoryOptions {
  recursive?: boolean
  mode?: Mode
}
export interface RmDirOptions {
  /** @deprecated as in Node: use `rm(path, { recursive: true })`. Runs on node:fs. */
  recursive?: boolean
  maxRetries?: number
  retryDelay?: number
}
/** What `writeFile`/`appendFile` accept. */
export type WriteData =
  | string
  | NodeJS.ArrayBufferView
  | Iterable<string | NodeJS.ArrayBufferView>
  | AsyncIterable<string | NodeJS.ArrayBufferView>
  /** A Readable (async-iterable); as in @types/node, typed as any Stream. */
  | Stream

/** Options of `FileHandle.readableWebStream`. */
export interface ReadableWebStreamOptions {
  /** Node 20: `'bytes'` makes a byte stream of Uint8Array chunks (Node 22+ always makes one). */
  type?: 'bytes'
  /** Node 22+: close the handle when the stream ends or is cancelled (default false). */
  autoClose?: boolean
}

/**
 * The chunks of `readableWebStream()` without `type: 'bytes'`: ArrayBuffers on Node 20, Uint8Arrays
 * on Node 22+. Told apart by the installed @types/node: 20's readableWebStream takes a `type`,
 * 22's and later's do not.
 */
export type WebStreamChunk = 'type' extends keyof NonNullable<Parameters<import('node:fs/promises').FileHandle['readableWebStream']>[0]> ? ArrayBuffer : Uint8Array
