import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '@peerkit/overlay-flooding'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { createPeer, type Hit, type Peer, type PeerConfigInput } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'

async function folder(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-index-file-peer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function first(peer: Peer, query: string): Promise<Hit | undefined> {
  for await (const hit of peer.search(query, { timeout: 5000 })) return hit
  return undefined
}

const plugins = ['@peerkit/example-index-file']

test('a peer chosen with index "file" by configuration shares, is found and serves a download over TCP; its shares survive a restart', async (t) => {
  const dir = await folder(t)
  await mkdir(join(dir, 'files'))
  await writeFile(join(dir, 'files', 'Persistent.Notes.txt'), 'kept across restarts\n'.repeat(5000))
  const aliceConfig: PeerConfigInput = {
    overlay: 'flooding',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    index: 'file',
    plugins,
    options: { file: { dir: join(dir, 'alice-index') } },
    dataDir: join(dir, 'alice'),
  }
  let alice = await createPeer(aliceConfig)
  await alice.start()
  t.teardown(() => alice.stop())
  const [shared] = await alice.share(join(dir, 'files'))
  t.truthy(shared)
  t.true((await readFile(join(dir, 'alice-index', 'shares.jsonl'), 'utf8')).includes(shared?.hash ?? '-'))

  const bob = await createPeer({
    overlay: 'flooding',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    bootstrap: alice.addresses(),
    dataDir: join(dir, 'bob'),
  })
  await bob.start()
  t.teardown(() => bob.stop())
  const hit = await first(bob, 'persistent notes')
  t.is(hit?.hash, shared?.hash)
  const result = await bob.download(shared?.hash ?? '', { to: join(dir, 'got.txt') }).done
  t.true(result.verified)
  t.is(await readFile(join(dir, 'got.txt'), 'utf8'), 'kept across restarts\n'.repeat(5000))

  // Alice restarts without sharing again: her index reloads her shares and she publishes them.
  await alice.stop()
  alice = await createPeer({ ...aliceConfig, bootstrap: bob.addresses() })
  await alice.start()
  t.is(await alice.shares.count(), 1, 'the shares were reloaded from the log')
  const again = await first(bob, 'persistent notes')
  t.is(again?.hash, shared?.hash)
  t.true(again?.providers.some((p) => p.id === alice.id))
})
