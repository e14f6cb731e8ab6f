// Consumer type test under moduleResolution bundler (Vite, esbuild, webpack 5 projects).
import { Ring, RingError, defaultRing, type BackendKind, type RingOptions } from 'uring'
import * as fs from 'uring/fs'
import type { FileHandle } from 'uring/fs'
import * as net from 'uring/net'
import type { Server, Socket } from 'uring/net'
