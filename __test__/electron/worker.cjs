// Worker thread of the Electron smoke test: its own default ring, a read, then reads left in
// flight when the main thread terminates it.
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { defaultRing } = require('uring')

;(async () => {
  const ring = defaultRing()
  const data = await ring.fs.readFile(workerData.file)
  for (let i = 0; i < 16; i++) ring.fs.readFile(workerData.file).catch(() => {})
  parentPort.postMessage({ backend: ring.backend, bytes: data.length })
})()
