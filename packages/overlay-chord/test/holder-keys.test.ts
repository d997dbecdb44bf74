import { createHash } from 'node:crypto'
import { type FileRecord, keywords } from '@peerkit/core'
import test from 'ava'
import { parseChordOptions, Ring } from '../src/index.js'
import { Replication, type ReplicationContext } from '../src/replication.js'

const ring = Ring.of(64)

test('a holder computes a received record’s keys only up to the first one it may hold', (t) => {
  const options = parseChordOptions({ idDifficulty: 0 })
  const replication = new Replication({ ring, options } as unknown as ReplicationContext)
  const name = 'the quick brown fox jumps.mkv'
  const record: FileRecord = {
    hash: createHash('sha256').update(name).digest('hex'),
    name,
    size: 1,
    chunkSize: 1024,
    keywords: keywords(name),
    provider: { id: 'p', addresses: [] },
  }
  const all = replication.keysOf({ ...record }) // another object: nothing cached for `record`
  t.true(all.length > 10)
  const wanted = all[2] as bigint // the second keyword's key
  const tried: bigint[] = []
  t.true(
    replication.someKey(record, (k) => {
      tried.push(k)
      return k === wanted
    }),
  )
  t.deepEqual(tried, all.slice(0, 3))
  // a record it may hold under none: every key tried, in the order keysOf gives
  tried.length = 0
  t.false(
    replication.someKey(record, (k) => {
      tried.push(k)
      return false
    }),
  )
  t.deepEqual(tried, all)
})
