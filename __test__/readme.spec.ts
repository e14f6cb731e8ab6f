// README.md's JavaScript examples run as written (issue #20): every ```js block is written to a
// scratch directory where `uring` resolves to this checkout's package, and run as an ES module
// under Node 20 (this one), 22 and 24 (fetched by scripts/with-node.mjs into .runtimes/, as the
// Node 24 test run does), each in a child process that must exit 0 within 20 s. A block that
// uses syntax or an API a supported Node lacks (`await using` on Node 20 and 22) fails here.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'

const root = join(__dirname, '..')
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1])
const dir = mkdtempSync(join(tmpdir(), 'uring-readme-'))
mkdirSync(join(dir, 'node_modules'))
symlinkSync(join(root, 'packages/uring'), join(dir, 'node_modules/uring'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

test('README.md has JavaScript examples to run', (t) => {
  t.true(blocks.length >= 2, `${blocks.length} js blocks found`)
})

// Under Node 20 (the main pass of npm test) all three lines; under another (the Node 24 pass) that
// one only, since the main pass ran the rest.
const current = process.versions.node.split('.')[0]
for (const major of current === '20' ? ['20', '22', '24'] : [current]) {
  test(`every js block of README.md runs on Node ${major}`, (t) => {
    if (process.platform !== 'linux') return t.pass('the examples use io_uring or its fallback; run on Linux')
    for (const [i, code] of blocks.entries()) {
      const work = join(dir, `node${major}-block${i}`)
      mkdirSync(work)
      symlinkSync(join(dir, 'node_modules'), join(work, 'node_modules'))
      const file = join(work, 'example.mjs')
      writeFileSync(file, code)
      const [cmd, args] = major === current ? [process.execPath, [file]] : [process.execPath, [join(root, 'scripts/with-node.mjs'), major, file]]
      const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8', timeout: 20000 })
      t.is(r.status, 0, `block ${i} (README line of \`${code.split('\n')[0]}\`) on Node ${major}: ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`)
    }
  })
}
