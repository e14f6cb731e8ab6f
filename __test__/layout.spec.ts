// The tree keeps the shape ARCHITECTURE.md describes (issue #17): one job per file, so no
// source file over 600 lines; no import circles, among the TypeScript modules (type imports
// included) or among each crate's modules (`use crate::...`).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import test from 'ava'

const root = join(__dirname, '..')
const MAX_LINES = 600

function files(dir: string, ext: string): string[] {
  return (readdirSync(join(root, dir), { recursive: true }) as string[]).filter((f) => f.endsWith(ext)).map((f) => join(dir, f))
}

const sources = [...files('crates/uring-core/src', '.rs'), ...files('crates/uring-napi/src', '.rs'), ...files('packages/uring/src', '.ts')]

/** The circles of a graph given as edges per node, each once, as `a -> b -> a`. */
function circles(graph: Map<string, string[]>): string[] {
  const found = new Set<string>()
  const state = new Map<string, 'open' | 'done'>()
  const visit = (n: string, stack: string[]): void => {
    if (state.get(n) === 'done') return
    if (state.get(n) === 'open') {
      found.add([...stack.slice(stack.indexOf(n)), n].join(' -> '))
      return
    }
    state.set(n, 'open')
    for (const m of graph.get(n) ?? []) visit(m, [...stack, n])
    state.set(n, 'done')
  }
  for (const n of graph.keys()) visit(n, [])
  return [...found]
}

test(`no source file is over ${MAX_LINES} lines`, (t) => {
  t.true(sources.length > 30)
  const long = sources.map((f) => [f, readFileSync(join(root, f), 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > MAX_LINES)
  t.deepEqual(long, [])
})

test('no import circles among the TypeScript modules', (t) => {
  const ts = files('packages/uring/src', '.ts')
  const graph = new Map<string, string[]>()
  for (const f of ts) {
    const text = readFileSync(join(root, f), 'utf8')
    const deps = [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => normalize(join(dirname(f), m[1])) + '.ts').filter((d) => ts.includes(d))
    graph.set(f, deps)
  }
  t.true(
    [...graph.values()].some((d) => d.length > 0),
    'the import parser found no imports',
  )
  t.deepEqual(circles(graph), [])
})

test('no circles among the modules of each crate', (t) => {
  for (const crate of ['crates/uring-core/src', 'crates/uring-napi/src']) {
    const mods = files(crate, '.rs').filter((f) => !f.endsWith('lib.rs'))
    const name = (f: string): string => f.slice(crate.length + 1, -3)
    const graph = new Map<string, string[]>()
    for (const f of mods) {
      // Code only: doc links (`[Pins]: crate::keep::Pins`) are no dependency.
      const code = readFileSync(join(root, f), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*\/\//.test(l))
        .join('\n')
      const deps = new Set<string>()
      for (const m of code.matchAll(/crate::(\{[^}]*\}|\w+)/g)) {
        for (const part of m[1].replace(/[{}]/g, '').split(',')) {
          const dep = `${crate}/${part.trim().split('::')[0]}.rs`
          if (mods.includes(dep) && dep !== f) deps.add(dep)
        }
      }
      graph.set(f, [...deps])
    }
    t.true(
      [...graph.values()].some((d) => d.length > 0),
      `${crate}: the parser found no uses`,
    )
    t.deepEqual(
      circles(graph).map((c) => c.split(' -> ').map(name).join(' -> ')),
      [],
      crate,
    )
  }
})
