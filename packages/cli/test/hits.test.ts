import test from 'ava'
import { HitSet } from '../src/index.js'

const hash = 'a'.repeat(64)
const p = (id: string) => ({ id, addresses: [`tcp://127.0.0.1:${id.length}`] })

test('hits of one hash merge their providers, in order of arrival', (t) => {
  const set = new HitSet()
  const first = set.add({ hash, name: 'x.mkv', size: 10, chunkSize: 5, providers: [p('a'), p('a')], hops: 2 })
  t.true(first.isNew)
  t.deepEqual(first.newProviders, [p('a')])
  const again = set.add({
    hash,
    name: 'x.mkv',
    size: 10,
    chunkSize: 5,
    providers: [p('a'), p('bb')],
    hops: 1,
  })
  t.false(again.isNew)
  t.deepEqual(again.newProviders, [p('bb')])
  set.add({ hash: 'b'.repeat(64), name: 'y', size: 1, chunkSize: 1, providers: [p('c')] })
  t.is(set.size, 2)
  const [merged] = set.hits()
  t.deepEqual(merged?.providers, [p('a'), p('bb')])
  t.is(merged?.hops, 1)
})
