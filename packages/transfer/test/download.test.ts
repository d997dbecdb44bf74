import { join } from 'node:path'
import type { DownloadProgress } from '@peerkit/core'
import { MemoryNetwork } from '@peerkit/transport-memory'
import test from 'ava'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { nodeName, refOf, startPeers, tempDir, type Wire } from './helpers/peers.js'

const MiB = 1024 * 1024

for (const wire of ['memory', 'tcp'] as Wire[]) {
  test(`${wire}: a file from three providers is byte-identical, each provider serving part`, async (t) => {
    const [d, ...providers] = await startPeers(t, 4, { wire })
    const dir = await tempDir(t)
    const { record, bytes } = await shareSame(providers, dir, 12 * MiB + 4321)
    const added: string[] = []
    const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: providers.map(refOf) })
    dl.on('source:added', (p) => added.push(p.id))
    const result = await dl.done
    t.is(await fileSha(result.path), sha(bytes))
    t.deepEqual(added.sort(), providers.map((p) => p.id).sort())
    t.is(result.sources.length, 3, JSON.stringify(result.sources))
    t.is(
      result.sources.reduce((s, x) => s + x.bytes, 0),
      bytes.length,
    )
    t.is(result.fetchedChunks, Math.ceil(bytes.length / record.chunkSize))
  })
}

test('a faster provider serves more chunks', async (t) => {
  const network = new MemoryNetwork()
  const [d, fast, slow] = await startPeers(t, 3, { wire: 'memory', network })
  const names = { fast: nodeName(fast), slow: nodeName(slow) }
  // 16 times slower: on a loaded machine the fast link falls far below its 8 MiB/s, the slow one cannot rise.
  network.setBandwidth((from) =>
    from === names.fast ? 8 * MiB : from === names.slow ? MiB / 2 : Number.POSITIVE_INFINITY,
  )
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([fast, slow], dir, 4 * MiB)
  const result = await d.download(record.hash, {
    to: join(dir, 'out.bin'),
    providers: [refOf(slow), refOf(fast)],
  }).done
  t.is(await fileSha(result.path), sha(bytes))
  const bytesOf = (id: string) => result.sources.find((s) => s.id === id)?.bytes ?? 0
  t.true(bytesOf(fast.id) > 2 * bytesOf(slow.id), JSON.stringify(result.sources))
})

test('progress is rate-limited and reports bytes, rate, sources and ETA', async (t) => {
  const network = new MemoryNetwork({ bandwidth: 16 * MiB })
  const [d, a, b] = await startPeers(t, 3, { wire: 'memory', network, transfer: { progressInterval: 100 } })
  const dir = await tempDir(t)
  const { record } = await shareSame([a, b], dir, 16 * MiB)
  const events: Array<DownloadProgress & { at: number }> = []
  const dl = d.download(record.hash, { to: join(dir, 'out.bin'), providers: [refOf(a), refOf(b)] })
  dl.on('progress', (p) => events.push({ ...p, at: Date.now() }))
  const started = Date.now()
  const result = await dl.done
  const elapsed = Date.now() - started
  t.true(events.length >= 3, `${events.length} events`)
  t.true(events.length <= elapsed / 100 + 3, `${events.length} events in ${elapsed} ms`)
  for (let i = 1; i < events.length; i++) t.true((events[i]?.bytes ?? 0) >= (events[i - 1]?.bytes ?? 0))
  const last = events[events.length - 1]
  t.is(last?.bytes, result.size)
  const middle = events.find((e) => e.rate > 0 && e.bytes < e.size)
  t.truthy(middle, 'a progress event mid-way with a rate')
  t.true((middle?.eta ?? -1) >= 0)
  t.is(middle?.sources.length, 2)
  t.true(
    d.transfer.downloads().some((s) => s.hash === record.hash && s.state === 'done' && s.bytes === s.size),
  )
})

test('a second download to the same target while one runs is refused', async (t) => {
  const network = new MemoryNetwork({ bandwidth: 4 * MiB })
  const [d, a] = await startPeers(t, 2, { wire: 'memory', network })
  const dir = await tempDir(t)
  const { record } = await shareSame([a], dir, 2 * MiB)
  const to = join(dir, 'out.bin')
  const first = d.download(record.hash, { to, providers: [refOf(a)] })
  t.throws(() => d.download(record.hash, { to, providers: [refOf(a)] }), { name: 'InvalidOptionsError' })
  await first.done
})

test('chunks larger than one message travel as several blocks', async (t) => {
  const [d, a, b] = await startPeers(t, 3, { wire: 'memory', transfer: { blockSize: 16 * 1024 } })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([a, b], dir, MiB + 999)
  t.is(record.chunkSize, 64 * 1024)
  const result = await d.download(record.hash, { to: join(dir, 'out.bin'), providers: [refOf(a), refOf(b)] })
    .done
  t.is(await fileSha(result.path), sha(bytes))
  t.is(result.fetchedChunks, 17)
  t.true((d.network.stats()['peerkit/transfer/2']?.sent ?? 0) >= 17 * 4, 'four block requests per full chunk')
})
