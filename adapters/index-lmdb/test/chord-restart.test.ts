import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Identity, keywords, type SignedFileRecord, signRecord } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import { RecordStore } from '@peerkit/overlay-chord'
import test from 'ava'
import { LmdbIndex, parseLmdbIndexOptions } from '../src/index.js'

const MINUTE = 60_000
const provider = Identity.generate()

function signed(name: string, expires: number): SignedFileRecord {
  const record = {
    hash: Buffer.from(name.padEnd(32, '.').slice(0, 32)).toString('hex'),
    name,
    size: 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: provider.peerId, addresses: ['tcp://127.0.0.1:4001'] },
  }
  return signRecord(provider, record, expires)
}

test("a Chord node's store restarts with the records it held, signed, each lapsing when it would have", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-chord-restart-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const clock = new TestClock(1_700_000_000_000)
  const options = parseLmdbIndexOptions({})
  const storeAt = () => new RecordStore(new LmdbIndex(dir, 'chord', options, { clock }))

  const before = storeAt()
  t.is(await before.open(), 0)
  const now = clock.now()
  const potter = signed('Harry.Potter.mkv', now + 60 * MINUTE)
  const rings = signed('The.Lord.of.the.Rings.mkv', now + 60 * MINUTE)
  t.is(before.put(potter, now + 10 * MINUTE), 'stored')
  t.is(before.put(rings, now + 30 * MINUTE), 'stored')
  await before.close() // flushes the writes it issued

  await clock.advance(5 * MINUTE) // the node is down for five minutes
  const after = storeAt()
  t.is(await after.open(), 2, 'both records are back')
  t.is(after.remaining(potter, clock.now()), 5 * MINUTE, 'with the time they had left')
  t.is(after.remaining(rings, clock.now()), 25 * MINUTE)
  t.deepEqual(after.signed(potter), potter, 'signature and signed expiry intact: other nodes can check it')
  t.deepEqual(
    (await after.matching({ keywords: ['potter'] })).map((r) => r.name),
    ['Harry.Potter.mkv'],
  )
  t.is(after.usageOf(provider.peerId).records, 2, 'the provider quota counts them again')

  await clock.advance(5 * MINUTE)
  t.is(
    after.expire(clock.now()),
    1,
    'the first lapses ten minutes after it was stored, as without the restart',
  )
  t.deepEqual(await after.matching({ keywords: ['potter'] }), [])
  await after.close()

  await clock.advance(30 * MINUTE) // down past the second one's time
  const later = storeAt()
  t.is(await later.open(), 0, 'a record that lapsed while the node was down is not taken back')
  t.is(await later.index.count(), 0, 'and is purged from disk')
  await later.close()
})
