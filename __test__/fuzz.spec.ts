// The seeded differential argument fuzzer (issue #16): each case is one call of a
// node:fs/promises function, a FileHandle method, a Ring op or a ring.batch(), with arguments
// drawn from pools of hostile values (fuzz/gen.cjs), run on node:fs/promises and on uring's fs
// of both backends, each in a fresh scratch folder, in child processes (fuzz/run.cjs). Outcomes,
// errors, results, argument views and folder trees must agree; where Node aborts, uring must
// reject with a RangeError; any crash of uring fails.
//
// `npm test`: fixed seeds, 2,000 cases. A fresh seed: FUZZ_SEED=random FUZZ_CASES=20000 npx ava
// __test__/fuzz.spec.ts (tests of 1,000 cases each, so that none runs into ava's timeout). One
// case alone, with the call and every outcome: node __test__/fuzz/run.cjs --seed S --case N
import { randomInt } from 'node:crypto'
import test from 'ava'
import { report, runFuzz } from './fuzz/run.cjs'

const FIXED_SEEDS = [1, 2, 3, 4]
const env = process.env.FUZZ_SEED
const seeds = env === undefined || env === '' ? FIXED_SEEDS : [env === 'random' ? randomInt(2 ** 32) : Number(env) >>> 0]
const perSeed = Number(process.env.FUZZ_CASES || (seeds === FIXED_SEEDS ? 500 : 2000))
const CHUNK = 1000

if (process.platform === 'linux') {
  for (const seed of seeds) {
    for (let from = 0; from < perSeed; from += CHUNK) {
      const cases = Math.min(CHUNK, perSeed - from)
      test.serial(`fuzz: seed ${seed}, cases ${from}..${from + cases - 1}`, async (t) => {
        t.timeout(300_000)
        const r = await runFuzz({ seed, cases, from })
        t.log(
          `seed ${seed}: ${cases} cases in ${(r.ms / 1000).toFixed(1)} s (${r.nodeAborts} where node:fs aborts), ${r.failures.length} failures; replay one: node __test__/fuzz/run.cjs --seed ${seed} --case N`,
        )
        if (r.failures.length === 0) return t.pass()
        t.fail(`${r.failures.length} failures (the first 40):\n\n${r.failures.slice(0, 40).map(report).join('\n\n')}`)
      })
    }
  }

  test.serial('fuzz: a changed field is a failure, and a child that dies names its case and the batch goes on', async (t) => {
    // The uring child changes one field of every 5th case's outcome (a mode in the tree), and
    // aborts itself when it starts case 12 on io_uring.
    const r = await runFuzz({ seed: 1, cases: 20, tamper: { flip: 5, abort: 12 } })
    for (const i of [0, 5, 10, 15]) {
      if (r.outcomes[i].node.r === 'crashed') continue // Node aborts there: a different verdict
      t.true(
        r.failures.some((f: any) => f.index === i && f.why.some((w: string) => w.startsWith('outcome.tree[0].mode'))),
        `case ${i}`,
      )
    }
    const crash = r.failures.find((f: any) => f.index === 12 && f.backend === 'io_uring')
    t.truthy(crash)
    t.regex(crash.why[0], /^uring crashed: signal SIGABRT/)
    t.is(crash.replay, 'node __test__/fuzz/run.cjs --seed 1 --case 12')
    // The rest of the batch ran in a new child.
    for (let i = 13; i < 20; i++) t.truthy(r.outcomes[i]['io_uring'] && r.outcomes[i]['node-backend'], `case ${i}`)
  })
}
