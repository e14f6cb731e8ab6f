// uring: asynchronous file I/O for Node.js through Linux io_uring.
//
// The layers: crates/uring-core (the Rust engine over the io-uring crate) -> crates/uring-napi
// (the napi-rs binding that drives it from Node's event loop) -> this package (the TypeScript API
// and the node:fs fallback). See ARCHITECTURE.md.
export { Ring, defaultRing, defaultNetRing, DEFAULT_ENTRIES, DEFAULT_SQPOLL_IDLE_MS, MAX_ENTRIES } from './ring'
export type { RingOptions, SqpollOptions, BackendKind, RingStats, OpOptions } from './ring'
export type { BatchOp, BatchOptions, BatchResultMap, BatchResults, FileBatchOp } from './batch'
export type { Advice } from './ops'
export type { RingMode } from './backend'
export { FileHandle } from './file-handle'
export { FsApi } from './fs-api'
export type {
  FileReadOptions,
  FileReadResult,
  FileWriteResult,
  MakeDirectoryOptions,
  Mode,
  OpenMode,
  PathLike,
  ReadFileOptions,
  ReadVResult,
  RmDirOptions,
  StatOptions,
  WriteData,
  WriteFileOptions,
  WriteVResult,
} from './fs-types'
export { RingError } from './errors'
export type { SystemError } from './errors'
