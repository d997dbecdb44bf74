import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { indexPersistenceSuite, indexSuite } from '@peerkit/compliance'
import test from 'ava'
import { LmdbIndex, parseLmdbIndexOptions } from '../src/index.js'

const dir = await mkdtemp(join(tmpdir(), 'peerkit-index-lmdb-'))
test.after.always(() => rm(dir, { recursive: true, force: true }))

let made = 0
// One environment for the whole file, one named index per case (as a peer's indexes share one).
// Without sync: the suite's 20,000 awaited puts would each wait for the disk; durability is the persistence suite's.
const unsynced = parseLmdbIndexOptions({ sync: false })
indexSuite(test, ({ clock }) => new LmdbIndex(dir, `case-${++made}`, unsynced, { clock }))

indexPersistenceSuite(test, {
  async location(t) {
    const location = await mkdtemp(join(tmpdir(), 'peerkit-index-lmdb-persist-'))
    t.teardown(() => rm(location, { recursive: true, force: true }))
    return location
  },
  make: (location, name, { clock }) => new LmdbIndex(location, name, parseLmdbIndexOptions({}), { clock }),
  // A write resolves once its transaction is committed and flushed: a crash loses none that was acknowledged.
  crashModule: fileURLToPath(new URL('./helpers/crash-index.js', import.meta.url)),
})
