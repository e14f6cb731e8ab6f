// uring/fs is a drop-in for node:fs/promises at the type level (issue #18): it is assignable to
// `typeof import('node:fs/promises')`, and its FileHandle to @types/node's. Checked by tsc
// (__test__/types/tsconfig.json, run from batch.spec.ts against @types/node 20, 22 and 24).
import type * as nodeFsP from 'node:fs/promises'
import * as ufs from '../../packages/uring/dist/fs'

export const asNode: typeof nodeFsP = ufs
export async function handle(): Promise<nodeFsP.FileHandle> {
  const fh = await ufs.open('/dev/null')
  return fh
}
