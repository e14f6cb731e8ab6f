// Consumer type test, CommonJS under moduleResolution node16: require('uring'), 'uring/fs', 'uring/net'.
import uring = require('uring')
import fs = require('uring/fs')
import net = require('uring/net')
const { Ring, defaultRing } = uring
type Ring = uring.Ring
type RingError = uring.RingError
type BackendKind = uring.BackendKind
type RingOptions = uring.RingOptions
type FileHandle = fs.FileHandle
type Server = net.Server
type Socket = net.Socket
