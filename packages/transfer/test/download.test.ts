import { join } from 'node:path'
import type { DownloadProgress } from '@peerkit/core'
import { MemoryNetwork } from '@peerkit/transport-memory'
import test from 'ava'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { nodeName, refOf, startPeers, tempDir, type Wire } from './helpers/peers.js'
import { driveUntil, sharedBytes, TestClock, VirtualNet, virtualDownload } from './helpers/virtual-net.js'

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

// Serial: alone in this file's process, its chunk hashing and disk writes do not wait behind the TCP tests'
// in the thread pool while the virtual clock runs on (it reached half the file in 120 virtual s beside them).
test.serial(
  'progress is rate-limited and reports bytes, rate, sources and ETA (virtual clock)',
  async (t) => {
    const clock = new TestClock()
    const net = new VirtualNet()
    const file = await sharedBytes(t, 4 * MiB)
    // Two providers, each answering a chunk 200 virtual ms after it is asked.
    const refs = ['provider-a', 'provider-b'].map((id) => {
      const ref = net.provide(id, file.server)
      const answer = net.answers.get(id) as NonNullable<ReturnType<typeof net.answers.get>>
      net.answers.set(id, async (req, from) => {
        if (req.op === 'chunk') await new Promise<void>((r) => clock.setTimeout(r, 200))
        return answer(req, from)
      })
      return ref
    })
    const dl = virtualDownload(clock, net, file.hash, join(file.dir, 'out.bin'), refs, {
      progressInterval: 100,
      maxInFlightPerPeer: 2,
    })
    const events: Array<DownloadProgress & { at: number }> = []
    dl.on('progress', (p) => events.push({ ...p, at: clock.now() }))
    const elapsed = await driveUntil(clock, () => dl.status().state === 'done', 600_000, 20)
    if (elapsed === undefined) return t.fail(JSON.stringify(dl.status()))
    const result = await dl.done
    t.true(events.length >= 3, `${events.length} events`)
    t.true(events.length <= elapsed / 100 + 3, `${events.length} events in ${elapsed} virtual ms`)
    for (let i = 1; i < events.length; i++) {
      t.true((events[i]?.bytes ?? 0) >= (events[i - 1]?.bytes ?? 0))
      // No two events closer than the interval allows (the last one, at 100 %, may come at once).
      if (i < events.length - 1) t.true((events[i]?.at ?? 0) - (events[i - 1]?.at ?? 0) >= 90)
    }
    const last = events[events.length - 1]
    t.is(last?.bytes, result.size)
    const middle = events.find((e) => e.rate > 0 && e.bytes < e.size)
    t.truthy(middle, 'a progress event mid-way with a rate')
    t.true((middle?.eta ?? -1) >= 0)
    // Half-way, the ETA is what is left at the recent rate (its accuracy is not asserted: disk writes and hashing
    // are real work, so under load the virtual clock runs on while they finish).
    const half = events.find((e) => e.bytes >= e.size / 2 && e.bytes < e.size)
    t.true(half?.eta !== undefined && half.eta > 0 && Number.isFinite(half.eta), JSON.stringify(half))
    t.is(middle?.sources.length, 2)
    t.is(dl.status().bytes, dl.status().size)
  },
)

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
