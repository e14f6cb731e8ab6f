// The smoke test's body in an Electron utility process (forked by main.cjs), reporting through
// process.parentPort. Under plain Node (no parentPort) it prints its report as one JSON line.
'use strict'
const { smoke } = require('./smoke.cjs')

const report = (m) => (process.parentPort ? process.parentPort.postMessage(m) : console.log(JSON.stringify(m)))
smoke().then(
  (what) => report({ ok: true, what }),
  (e) => report({ ok: false, error: String(e?.stack ?? e) }),
)
