// The test matrix from the TypeScript op table (packages/uring/src/ops.ts): every row, on both
// backends, through its Ring method, through ring.batch and through ring.link, fails the same way
// node:fs does for the same arguments — a closed fd, a path in a directory that does not exist —
// with the same code, errno, syscall, path and dest. A row added to the table is in this matrix
// with no edit here; an op node:fs lacks (fallocate, fadvise) says in EXPECTED what it does.
import * as nodeFs from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { caught, each } from './helpers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ROWS } = require('../packages/uring/dist/ops.js') as {
  ROWS: Record<string, { syscall: string; fd: boolean; args: readonly { key: string; path?: true }[] }>
}

/** Ring method names that differ from the row's (`link()` is the chain method). */
const METHOD: Record<string, string> = { link: 'linkat' }
/** node:fs, the oracle, for each row it has; the others' expected error code by backend. */
const ORACLE: Record<string, (...a: any[]) => Promise<unknown>> = {
  fsync: promisify(nodeFs.fsync),
  fdatasync: promisify(nodeFs.fdatasync),
  ftruncate: promisify(nodeFs.ftruncate),
  unlink: promisify(nodeFs.unlink),
  rmdir: promisify(nodeFs.rmdir),
  mkdir: (p: string, mode: number) => promisify(nodeFs.mkdir)(p, { mode }),
  rename: promisify(nodeFs.rename),
  symlink: promisify(nodeFs.symlink),
  link: promisify(nodeFs.link),
  access: promisify(nodeFs.access),
  chmod: promisify(nodeFs.chmod),
}
const EXPECTED: Record<string, Record<string, string>> = {
  fallocate: { io_uring: 'EBADF', node: 'ENOTSUP' },
  fadvise: { io_uring: 'EBADF', node: 'EBADF' },
}

function fields(e: any): Record<string, unknown> {
  return { code: e?.code, errno: e?.errno, syscall: e?.syscall, path: e?.path, dest: e?.dest }
}

each('every row of the op table fails as node:fs does, through its Ring method, batch and link', async (t, { ring, backend, dir }) => {
  // An fd no test opens (a freshly closed one could be reused by a test running beside this one).
  const closed = 1 << 30
  const missing = join(dir, 'no-such-dir')
  t.true(Object.keys(ROWS).length >= 11)
  for (const [name, row] of Object.entries(ROWS)) {
    // Arguments: a closed fd, paths in a directory that does not exist, integers by default
    // (1 where a row requires one, e.g. fallocate's length).
    const values: unknown[] = row.fd ? [closed] : []
    const fieldsOf: Record<string, unknown> = row.fd ? { fd: closed } : {}
    for (const [i, arg] of row.args.entries()) {
      const v = arg.path
        ? join(missing, `${arg.key}-${i}`)
        : arg.key === 'advice'
          ? 'normal'
          : arg.key === 'length' && name === 'fallocate'
            ? 1
            : arg.key === 'mode' && name === 'chmod'
              ? 0o644
              : undefined
      values.push(v)
      if (v !== undefined) fieldsOf[arg.key] = v
    }
    const method = (ring as any)[METHOD[name] ?? name] as (...a: unknown[]) => Promise<unknown>
    t.is(typeof method, 'function', `Ring has no method for row ${name}`)
    const viaMethod = await caught(() => method.apply(ring, values))
    const [viaBatch] = await ring.batch([{ op: name, ...fieldsOf } as any])
    const [viaLink] = await ring.link([{ op: name, ...fieldsOf } as any])
    t.is(viaBatch.status, 'rejected', `${name} via batch`)
    t.is(viaLink.status, 'rejected', `${name} via link`)
    const got = [fields(viaMethod), fields((viaBatch as PromiseRejectedResult).reason), fields((viaLink as PromiseRejectedResult).reason)]
    if (ORACLE[name] !== undefined) {
      const oracleArgs = values.map((v) => (v === undefined ? (name === 'mkdir' ? 0o777 : 0) : v))
      const want = fields(await caught(() => ORACLE[name](...oracleArgs)))
      t.truthy(want.code, `node:fs ${name} did not fail`)
      for (const g of got) t.deepEqual(g, want, `${name}: ${JSON.stringify(g)} vs node:fs ${JSON.stringify(want)}`)
    } else {
      for (const g of got) {
        t.is(g.code, EXPECTED[name][backend], `${name} on ${backend}`)
        t.is(g.syscall, row.syscall, name)
      }
    }
  }
})
