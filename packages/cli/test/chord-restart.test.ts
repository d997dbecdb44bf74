import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPeer, type Hit, type Peer, type PeerConfigInput } from '@peerkit/core'
import test from 'ava'
import '../src/register.js'
import { tempDir } from './helpers/files.js'
import { FAST_OPTIONS } from './helpers/overlay-options.js'

/** Polls `check` every 50 ms until it holds or `ms` pass (a bound, not a sleep-then-assert). */
async function until(ms: number, check: () => boolean | Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

async function first(peer: Peer, query: string): Promise<Hit | undefined> {
  for await (const hit of peer.search(query, { timeout: 3000 })) return hit
  return undefined
}

const held = (peer: Peer) => Number(peer.overlay.stats().records ?? 0)

test('a Chord node on LMDB restarts holding the records of a provider that is gone, and answers for them', async (t) => {
  const dir = await tempDir(t, 'chord-restart')
  await mkdir(join(dir, 'files'))
  await writeFile(
    join(dir, 'files', 'Kept.Across.Restarts.txt'),
    'a file whose provider leaves\n'.repeat(100),
  )
  const base = (name: string): PeerConfigInput => ({
    overlay: 'chord',
    transport: 'memory',
    listen: [`memory://${name}-${process.pid}-${Date.now()}`],
    options: FAST_OPTIONS.chord,
  })
  const holderConfig: PeerConfigInput = { ...base('holder'), index: 'lmdb', dataDir: join(dir, 'holder') }
  let holder = await createPeer(holderConfig)
  await holder.start()
  t.teardown(() => holder.stop())
  const provider = await createPeer({ ...base('provider'), bootstrap: holder.addresses() })
  await provider.start()
  const [record] = await provider.share(join(dir, 'files'))
  // With two nodes every key has both as holders: the holder keeps the provider's records.
  t.true(await until(30_000, () => held(holder) > 0), 'the holder stores the records')
  const before = held(holder)
  await holder.stop() // hands its records to the provider's node and keeps them on disk
  await provider.stop() // gone: its goodbye (withdrawing its records) reaches nobody, and nobody publishes them again

  holder = await createPeer(holderConfig) // the same data folder: the same id and the same index
  await holder.start()
  t.is(held(holder), before, 'every record is back after the restart, without anyone publishing')
  const hit = await first(holder, 'kept across restarts')
  t.is(hit?.hash, record?.hash, 'and found by keyword')
  t.true(hit?.providers.some((p) => p.id === provider.id))
})
