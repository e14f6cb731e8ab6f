// Electron smoke test (issue #5): the body of smoke.cjs (read, write, stats, a FileHandle, a
// worker thread) in Electron's main process, then in a utility process (utility.cjs, forked with
// utilityProcess). The GitHub workflow runs it with
//   xvfb-run npx electron --no-sandbox __test__/electron/main.cjs
// It cannot run on the development machine (Electron's binary is downloaded from GitHub, not the
// npm registry), so the same files also run under plain Node (__test__/electron.spec.ts): the
// bodies are checked everywhere, the Electron host only in the workflow.
// URING_EXPECT=fallback expects the node:fs backend (a host without io_uring).
'use strict'
const { join } = require('node:path')
const { smoke } = require('./smoke.cjs')

/** Forks utility.cjs as an Electron utility process and resolves with what its smoke run reports. */
function inUtilityProcess(utilityProcess) {
  return new Promise((resolve, reject) => {
    const child = utilityProcess.fork(join(__dirname, 'utility.cjs'), [], { stdio: 'inherit' })
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error('utility process timed out'))
    }, 30000)
    child.once('message', (m) => {
      clearTimeout(timer)
      if (m.ok) resolve(m.what)
      else reject(new Error(`utility process: ${m.error}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`utility process exited (${code}) before reporting`))
    })
  })
}

function finish(promise, exit) {
  promise.then(
    (what) => {
      console.log(`electron-smoke: ok (${what})`)
      exit(0)
    },
    (e) => {
      console.error('electron-smoke: FAIL', e)
      exit(1)
    },
  )
}

if (process.versions.electron) {
  const { app, utilityProcess } = require('electron')
  app.whenReady().then(() => finish((async () => `main: ${await smoke()}; utility process: ${await inUtilityProcess(utilityProcess)}`)(), (code) => app.exit(code)))
} else {
  finish(smoke(), (code) => process.exit(code))
}
