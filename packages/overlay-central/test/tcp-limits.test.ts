import { createHash } from 'node:crypto'
import { collect, createPeer, type FileRecord, Identity, keywords, type Peer } from '@peerkit/core'
import test from 'ava'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { CENTRAL, createDirectoryServer, loginPayload } from '../src/index.js'

async function setup(t: { teardown(fn: () => unknown): void }, options = {}) {
  const directory = await createDirectoryServer({ transport: 'tcp', listen: ['tcp://127.0.0.1:0'], options })
  t.teardown(() => directory.stop())
  await directory.start()
  const peer = async (): Promise<Peer> => {
    const p = await createPeer({
      overlay: 'central',
      transport: 'tcp',
      listen: ['tcp://127.0.0.1:0'],
      bootstrap: directory.addresses(),
    })
    t.teardown(() => p.stop())
    await p.start()
    return p
  }
  return { directory, peer }
}

const recordOf = (peer: Peer, name: string): FileRecord => ({
  hash: createHash('sha256').update(name).digest('hex'),
  name,
  size: 10,
  chunkSize: 65_536,
  keywords: keywords(name),
  provider: { id: peer.id, addresses: peer.addresses() },
})

test('over TCP: a login with a key proof from another key is rejected', async (t) => {
  const { directory, peer } = await setup(t)
  const mallory = await peer()
  const server = { id: directory.id, addresses: directory.addresses() }
  const hello = await mallory.network.request(server, CENTRAL, { type: 'hello' })
  if (hello.type !== 'hello') return t.fail('expected hello')
  const addresses = mallory.addresses()
  const timestamp = Date.now()
  const forged = Identity.generate().sign(
    loginPayload(directory.id, mallory.id, hello.nonce, addresses, timestamp),
  )
  await t.throwsAsync(
    mallory.network.request(server, CENTRAL, {
      type: 'login',
      addresses,
      timestamp,
      signature: forged,
      reset: true,
    }),
    { name: 'AuthenticationError' },
  )
})

test('over TCP: the register limit and the search rate limit answer RateLimitError', async (t) => {
  const { directory, peer } = await setup(t, { maxRecordsPerPeer: 2, searchRate: 0.1, searchBurst: 2 })
  const alice = await peer()
  await t.throwsAsync(alice.overlay.publish(['a', 'b', 'c'].map((n) => recordOf(alice, `limit ${n}.txt`))), {
    name: 'RateLimitError',
  })
  t.is(directory.server.recordsOf(alice.id), 0)
  await alice.overlay.publish(['a', 'b'].map((n) => recordOf(alice, `limit ${n}.txt`)))
  t.is((await collect(alice.search('limit'))).length, 2)
  t.is((await collect(alice.search('limit a'))).length, 1)
  await t.throwsAsync(collect(alice.search('limit')), { name: 'RateLimitError' })
})
