// Issue #16: no op of any ring runs with credentials the process gave up. Rings made as root,
// then process.setuid / seteuid (and back) / setuid from the main thread with the ring in a
// worker: every op must be refused exactly as node:fs refuses it with the new credentials, on
// every ring kind (the SQPOLL ring's kernel thread kept root's). Each case in a child process.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'

const fixture = join(__dirname, 'fixtures/credentials.cjs')
const isRoot = process.getuid?.() === 0
const RINGS: Array<[string, object]> = [
  ['default ring', {}],
  ['submitThread: false ring', { submitThread: false }],
  ['SQPOLL ring', { sqpoll: {} }],
  ['node backend', { backend: 'node' }],
]

const dir = fs.mkdtempSync(join(tmpdir(), 'uring-creds-'))
fs.chmodSync(dir, 0o755)
const secret = join(dir, 'secret')
fs.writeFileSync(secret, 'root only\n', { mode: 0o600 })
const rootDir = join(dir, 'private')
fs.mkdirSync(rootDir, { mode: 0o700 })
fs.writeFileSync(join(rootDir, 'inner'), 'x')
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }))

const ROOT = { readFile: 'root only\n', open: 'opened', stat: 'ok', writeFile: 'written', mkdir: 'made' }
const NOBODY = { readFile: 'EACCES', open: 'EACCES', stat: 'EACCES', writeFile: 'EACCES', mkdir: 'EACCES' }

function run(options: object, how: string) {
  fs.rmSync(join(rootDir, 'new'), { force: true })
  fs.rmSync(join(rootDir, 'made'), { recursive: true, force: true })
  const r = spawnSync(process.execPath, [fixture, JSON.stringify(options), secret, rootDir, how], { encoding: 'utf8', timeout: 30_000 })
  const last = r.stdout.trim().split('\n').pop()
  return { ...r, json: last ? JSON.parse(last) : undefined }
}

for (const [name, options] of RINGS) {
  for (const how of ['setuid', 'seteuid', 'worker']) {
    test.serial(`[${name}] ops after ${how === 'worker' ? 'the main thread calls setuid, ring in a worker' : how}: the old credentials are gone`, (t) => {
      if (!isRoot) {
        t.log('skipped: needs root (CI runs as root)')
        t.pass()
        return
      }
      const r = run(options, how)
      t.is(r.status, 0, r.stderr)
      // With root's credentials everything works; mkdir/writeFile may find what `before` made.
      t.is(r.json.before.readFile, ROOT.readFile, JSON.stringify(r.json))
      t.is(r.json.before.stat, 'ok')
      const after = { ...r.json.after }
      t.deepEqual(after, NOBODY, `${r.json.mode}: after dropping to nobody, as node:fs would refuse: ${JSON.stringify(r.json)}`)
      if (how === 'seteuid') {
        t.is(r.json.restored.readFile, ROOT.readFile, 'seteuid(0) gives root back, and the ring follows')
        t.is(r.json.restored.open, 'opened')
      }
    })
  }
}
