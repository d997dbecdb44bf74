import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/overlay-flooding'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, type Hit, type Peer } from '@peerkit/core'
import test from 'ava'

const CONTENT = 'carried over websockets\n'.repeat(40_000)

test('peers that name the transport by configuration (plugins) connect over ws://, find and download a file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-stream-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'Socket.Stories.txt'), CONTENT)
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => p.stop())).then(() => {}))
  const start = async (bootstrap: string[]) => {
    const peer = await createPeer({
      overlay: 'flooding',
      transport: 'stream',
      plugins: ['@peerkit/example-transport-stream'],
      listen: ['ws://127.0.0.1:0'],
      bootstrap,
    })
    peers.push(peer)
    await peer.start()
    return peer
  }
  const alice = await start([])
  t.regex(alice.addresses()[0] ?? '', /^ws:\/\/127\.0\.0\.1:\d+$/)
  const [record] = await alice.share(join(dir, 'Socket.Stories.txt'))
  const bob = await start(alice.addresses())
  let hit: Hit | undefined
  for await (const h of bob.search('socket stories', { timeout: 10_000 })) {
    hit = h
    break
  }
  t.is(hit?.hash, record?.hash)
  t.deepEqual(
    hit?.providers.map((p) => p.id),
    [alice.id],
  )
  const result = await bob.download(hit?.hash ?? '', { to: join(dir, 'got.txt') }).done
  t.true(result.verified)
  t.is(await readFile(join(dir, 'got.txt'), 'utf8'), CONTENT)
  t.true(bob.network.peers().some((p) => p.id === alice.id && bob.network.isConnected(p.id)))
})
