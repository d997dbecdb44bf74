import { mkdtempSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { indexPersistenceSuite, indexSuite } from '@peerkit/compliance'
import test from 'ava'
import { FileIndex, parseFileIndexOptions } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'peerkit-index-file-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

let made = 0
// Every case gets a fresh log. Without fsync: the suite's 20,000 puts would each wait for the disk (about
// 3.5 ms here, 70 s in all) and what is checked, the log's content, is the same; file-index.test.ts and
// peer.test.ts run with fsync on.
indexSuite(
  test,
  ({ clock }) =>
    new FileIndex(join(dir, `case-${++made}.jsonl`), parseFileIndexOptions({ dir, fsync: false }), { clock }),
)

indexPersistenceSuite(test, {
  async location(t) {
    const location = await mkdtemp(join(tmpdir(), 'peerkit-index-file-persist-'))
    t.teardown(() => rm(location, { recursive: true, force: true }))
    return location
  },
  make: (location, name, { clock }) =>
    new FileIndex(join(location, `${name}.jsonl`), parseFileIndexOptions({ dir: location }), { clock }),
  // Every change is fsynced before its promise resolves: a crash loses none that was acknowledged.
  crashModule: fileURLToPath(new URL('./helpers/crash-index.js', import.meta.url)),
  crashAfter: 200,
})
