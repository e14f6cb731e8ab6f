// Vendors, unmodified, the test files of Node's own suite that exercise fs/promises (issue #18),
// as Deno keeps them (denoland/node_test): the test/parallel files named test-fs*,
// test-filehandle* or test-whatwg-readablebytestream* that use fs.promises / fs/promises, all of
// test/common, and the fixtures those files name. Writes __test__/node-suite/v<LINE>/ with
// SOURCE.json: where the copy came from (tag, origin) and the sha256 of every file, which
// `scripts/node-tests.mjs` checks before each run. The copy is committed; run this only to move
// to another Node release:
//   node scripts/vendor-node-tests.mjs --line 20 --tag v20.19.2 --from /tmp/node-v20.19.2 --origin '...'
// where --from is a directory holding Node's test/ of that tag.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { sha256 } from './vendored.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: a } = parseArgs({ options: { line: { type: 'string' }, tag: { type: 'string' }, from: { type: 'string' }, origin: { type: 'string' } } })
if (!a.line || !a.tag || !a.from || !a.origin) throw new Error('usage: --line N --tag vX.Y.Z --from DIR --origin TEXT')

/** A test file is taken when its name and its text match. */
export const NAMES = /^test-(fs|filehandle|whatwg-readablebytestream)[\w.-]*\.m?js$/
export const USES_PROMISES = /\bfs\.promises\b|['"](node:)?fs\/promises['"]|\bfsPromises\b|require\(['"](node:)?fs['"]\)\.promises|\{ promises(: \w+)? \} = (fs|require\(['"](node:)?fs['"]\))/

const from = join(a.from, 'test')
const out = join(root, '__test__', 'node-suite', `v${a.line}`)
rmSync(out, { recursive: true, force: true })

const parallel = readdirSync(join(from, 'parallel'))
  .filter((f) => NAMES.test(f) && USES_PROMISES.test(readFileSync(join(from, 'parallel', f), 'utf8')))
  .sort()
const copied = []
const copy = (rel) => {
  const src = join(from, rel)
  if (!existsSync(src)) return false
  mkdirSync(dirname(join(out, 'test', rel)), { recursive: true })
  cpSync(src, join(out, 'test', rel), { recursive: true, verbatimSymlinks: true })
  copied.push(rel)
  return true
}
for (const f of parallel) copy(join('parallel', f))
copy('common')
// Fixtures the files name: fixtures.path('a', 'b') / fixtures.readSync('x') / fixtures.fileURL(...)
// and literal 'fixtures/...' paths.
const fixtures = new Set()
for (const f of parallel) {
  const text = readFileSync(join(from, 'parallel', f), 'utf8')
  for (const m of text.matchAll(/fixtures\.(?:path|readSync|readKey|fileURL|toURL)\(([^)]*)\)/g)) {
    const parts = [...m[1].matchAll(/'([^']+)'|"([^"]+)"/g)].map((p) => p[1] ?? p[2])
    if (parts.length > 0) fixtures.add(join(...parts))
  }
  for (const m of text.matchAll(/fixtures\/([\w./-]+)/g)) fixtures.add(m[1].replace(/\/$/, ''))
}
const missing = []
for (const f of [...fixtures].sort()) if (!copy(join('fixtures', f))) missing.push(f)

const files = {}
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (e.isFile()) files[relative(out, p)] = sha256(p)
  }
}
walk(join(out, 'test'))
const sorted = Object.fromEntries(Object.entries(files).sort(([x], [y]) => (x < y ? -1 : 1)))
writeFileSync(
  join(out, 'SOURCE.json'),
  JSON.stringify(
    {
      line: Number(a.line),
      tag: a.tag,
      origin: a.origin,
      note: 'Unmodified copies of files of Node.js test/ at the tag (MIT, Copyright Node.js contributors). Vendored by scripts/vendor-node-tests.mjs; checked by scripts/node-tests.mjs.',
      tests: parallel,
      fixturesNotFound: missing,
      files: sorted,
    },
    null,
    1,
  ) + '\n',
)
const size = Object.keys(files).reduce((n, f) => n + statSync(join(out, f)).size, 0)
console.log(`v${a.line} (${a.tag}): ${parallel.length} test files, ${Object.keys(files).length} files, ${(size / 1024).toFixed(0)} KiB; fixtures not found: ${missing.join(', ') || 'none'}`)
