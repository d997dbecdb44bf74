import { join } from 'node:path'
import type { Peer } from '@peerkit/core'
import { MemoryNetwork } from '@peerkit/transport-memory'
import test from 'ava'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { misbehave } from './helpers/liars.js'
import { refOf, startPeers, tempDir, type Wire } from './helpers/peers.js'

const MiB = 1024 * 1024

interface Dropped {
  peer: string
  reason: string
}

for (const wire of ['memory', 'tcp'] as Wire[]) {
  test(`${wire}: a provider killed mid-way is dropped and the file still completes`, async (t) => {
    const network = new MemoryNetwork({ bandwidth: 16 * MiB })
    const [d, a, b, c] = await startPeers(t, 4, { wire, network, transfer: { progressInterval: 10 } })
    const dir = await tempDir(t)
    const { record, bytes } = await shareSame([a, b, c], dir, 12 * MiB)
    if (wire === 'tcp') {
      // Loopback TCP is too fast to kill a provider mid-way reliably: each answer waits 30 ms.
      for (const [i, p] of [a, b, c].entries())
        await misbehave(t, p, join(dir, `copy-${i}-42.bin`), { delay: 30 })
    }
    const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [a, b, c].map(refOf) })
    const dropped: Dropped[] = []
    dl.on('source:dropped', (x) => dropped.push(x))
    let killed: Promise<void> | undefined
    dl.on('progress', (p) => {
      if (!killed && p.bytes >= (wire === 'memory' ? 0.3 * p.size : 1)) killed = b.stop()
    })
    const result = await dl.done
    await killed
    t.truthy(killed, 'the provider was killed during the download')
    t.is(await fileSha(result.path), sha(bytes))
    t.true(result.verified)
    const drop = dropped.find((x) => x.peer === b.id)
    t.truthy(drop, JSON.stringify(dropped))
    t.regex(drop?.reason ?? '', /disconnected|unreachable|stalled/)
    t.true((result.sources.find((s) => s.id === b.id)?.bytes ?? 0) < bytes.length)
  })

  test(`${wire}: a provider sending corrupted chunks is dropped; the file completes from the others`, async (t) => {
    const [d, liar, a, b] = await startPeers(t, 4, { wire })
    const dir = await tempDir(t)
    const { record, bytes } = await shareSame([liar, a, b], dir, 4 * MiB + 17)
    await misbehave(t, liar, join(dir, `copy-0-42.bin`), 'chunk')
    const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [liar, a, b].map(refOf) })
    const dropped: Dropped[] = []
    dl.on('source:dropped', (x) => dropped.push(x))
    const result = await dl.done
    t.is(await fileSha(result.path), sha(bytes))
    t.deepEqual(
      dropped.map((x) => x.peer),
      [liar.id],
    )
    t.regex(dropped[0]?.reason ?? '', /bad data: chunk \d+ failed verification/)
    t.false(result.sources.some((s) => s.id === liar.id))
  })
}

test('a provider lying about the leaf list is dropped before any chunk is trusted', async (t) => {
  const [d, liar, good] = await startPeers(t, 3, { wire: 'memory' })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([liar, good], dir, MiB)
  await misbehave(t, liar, join(dir, 'copy-0-42.bin'), 'manifest')
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [liar, good].map(refOf) })
  const dropped: Dropped[] = []
  dl.on('source:dropped', (x) => dropped.push(x))
  const result = await dl.done
  t.is(await fileSha(result.path), sha(bytes))
  t.is(dropped[0]?.peer, liar.id)
  t.regex(dropped[0]?.reason ?? '', /bad data: the manifest: leaf list does not match/)
})

test('a stalled provider times out, its chunks go to the others, and it is dropped', async (t) => {
  // The good provider is slow enough (1 MiB/s: 3 s for the file) that the stalled requests time out (1 s)
  // well before the end, while its own window (8 × 64 KiB = 0.5 s of its link) stays well inside the timeout,
  // so only a loaded machine's pause of more than 0.5 s, twice with nothing delivered, could drop it too.
  const [d, staller, good] = await startPeers(t, 3, {
    wire: 'memory',
    network: new MemoryNetwork({ bandwidth: MiB }),
    transfer: { requestTimeout: 1000, maxFailures: 2 },
  })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([staller, good], dir, 3 * MiB)
  await misbehave(t, staller, join(dir, 'copy-0-42.bin'), 'stall')
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [staller, good].map(refOf) })
  const dropped: Dropped[] = []
  dl.on('source:dropped', (x) => dropped.push(x))
  const result = await dl.done
  t.is(await fileSha(result.path), sha(bytes))
  t.is(dropped[0]?.peer, staller.id)
  t.regex(dropped[0]?.reason ?? '', /^stalled/)
  t.deepEqual(
    result.sources.map((s) => s.id),
    [good.id],
  )
})

test('when no provider can supply the missing chunks, the error says which', async (t) => {
  const [d, liar] = await startPeers(t, 2, { wire: 'memory' })
  const dir = await tempDir(t)
  const { record } = await shareSame([liar], dir, MiB)
  await misbehave(t, liar, join(dir, 'copy-0-42.bin'), 'chunk')
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [refOf(liar)] })
  const err = await t.throwsAsync(dl.done, { name: 'NotFoundError' })
  t.regex(err?.message ?? '', /no provider could supply chunks 0-15 of [0-9a-f]{64}/)
  t.regex(err?.message ?? '', /sent bad data/)
  t.is(dl.status().state, 'failed')
})

test('a provider that goes away with nobody else left fails as unreachable at once with providerWait 0', async (t) => {
  const [d, a] = await startPeers(t, 2, { wire: 'memory', transfer: { providerWait: 0 } })
  const dir = await tempDir(t)
  const { record } = await shareSame([a], dir, MiB)
  const ref = refOf(a)
  await a.stop()
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [ref] })
  await t.throwsAsync(dl.done, { name: 'PeerUnreachableError' })
})

test('providers that arrive while the download runs are used', async (t) => {
  const network = new MemoryNetwork({ bandwidth: 8 * MiB })
  const [d, a, b] = await startPeers(t, 3, { wire: 'memory', network })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([a, b], dir, 4 * MiB)
  let release: () => void = () => {}
  const later = new Promise<void>((r) => {
    release = r
  })
  async function* providers(): AsyncIterable<ReturnType<typeof refOf>> {
    yield refOf(a as Peer)
    await later
    yield refOf(b as Peer)
  }
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: providers() })
  dl.once('progress', () => release())
  const result = await dl.done
  t.is(await fileSha(result.path), sha(bytes))
  t.is(result.sources.length, 2, JSON.stringify(result.sources))
})
