// Transfer benchmarks: `npm run bench:transfer` (from the repository root).
//  (a) one provider over TCP, a 1 GiB file, against a raw node:net file copy in the same run;
//  (b) three providers over the memory transport, each link limited to B bytes/s;
//  (c) as (b), with one provider killed at 30%.
// Sizes can be lowered for a quick look: TRANSFER_BENCH_GIB=0.25 node dist/bench/transfer.js
import 'reflect-metadata'
import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import '@peerkit/transport-tcp'
import '../src/index.js'
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import {
  createPeer,
  defineProtocol,
  type Hit,
  OVERLAY,
  type Overlay,
  type OverlayEvents,
  type OverlayStats,
  overlays,
  type Peer,
  type PeerRef,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import { EventEmitter } from 'eventemitter3'
import { Lifecycle } from 'tsyringe'
import { z } from 'zod'

const MiB = 1024 * 1024
const GIB = Number(process.env.TRANSFER_BENCH_GIB ?? 1)
const B = 8 * MiB
const MULTI_SIZE = 256 * MiB

/** The benchmark hands providers to `download()` itself: an overlay that finds nothing is enough. */
class NoOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'bench-none'
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(): Promise<void> {}
  async unpublish(): Promise<void> {}
  async *search(): AsyncIterable<Hit> {}
  async *providers(): AsyncIterable<PeerRef> {}
  neighbors(): PeerRef[] {
    return []
  }
  role(): string {
    return 'peer'
  }
  stats(): OverlayStats {
    return { sent: {}, received: {} }
  }
}
overlays.register('bench-none', () => (c) => {
  c.register(OVERLAY, { useClass: NoOverlay }, { lifecycle: Lifecycle.ContainerScoped })
})

async function writeFileOf(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w')
  const block = Buffer.allocUnsafe(4 * MiB)
  let x = 0x9e3779b9
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    block.writeUInt32LE(x >>> 0, i)
  }
  for (let off = 0; off < size; off += block.length) {
    block.writeUInt32LE(off / block.length, 0) // every block differs
    await fh.write(block, 0, Math.min(block.length, size - off), off)
  }
  await fh.close()
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** A plain TCP file copy: read stream → socket → write stream, both ends in this process. */
async function rawCopy(src: string, dst: string): Promise<number> {
  const server = createServer((socket) => {
    void pipeline(createReadStream(src, { highWaterMark: 1 * MiB }), socket).catch(() => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  const started = performance.now()
  const socket = connect(port, '127.0.0.1')
  await pipeline(socket, createWriteStream(dst))
  const ms = performance.now() - started
  server.close()
  return ms
}

async function peers(
  n: number,
  wire: 'tcp' | 'memory',
  dataRoot: string,
  network?: MemoryNetwork,
): Promise<Peer[]> {
  const container = wire === 'memory' ? memoryContainer(network) : undefined
  const out: Peer[] = []
  for (let i = 0; i < n; i++) {
    const p = await createPeer(
      {
        overlay: 'bench-none',
        transport: wire,
        listen: [wire === 'tcp' ? 'tcp://127.0.0.1:0' : `memory://bench-${i}`],
        dataDir: join(dataRoot, `peer-${i}`),
      },
      { container },
    )
    await p.start()
    out.push(p)
  }
  return out
}

const fmt = (bytesPerSec: number) => `${(bytesPerSec / MiB).toFixed(1)} MiB/s`

/** Rounds of (a): raw copy and peerkit download alternate, so both see the same machine load. */
const TCP_ROUNDS = Number(process.env.TRANSFER_BENCH_ROUNDS ?? 2)

async function benchTcp(dir: string): Promise<void> {
  const size = Math.round(GIB * 1024) * MiB
  const src = join(dir, 'a-src.bin')
  await writeFileOf(src, size)
  const [provider, downloader] = await peers(2, 'tcp', join(dir, 'a-data'))
  if (!provider || !downloader) throw new Error('no peers')
  const hashStart = performance.now()
  const [record] = await provider.share(src)
  const hashMs = performance.now() - hashStart
  if (!record) throw new Error('nothing shared')
  console.log(`(a) TCP, 1 provider, ${size / MiB} MiB, chunk ${record.chunkSize / 1024} KiB`)
  console.log(`    share (hash) ${(hashMs / 1000).toFixed(2)} s = ${fmt((size * 1000) / hashMs)}`)
  const ratios: number[] = []
  for (let round = 1; round <= TCP_ROUNDS; round++) {
    const raw = (size * 1000) / (await rawCopy(src, join(dir, 'a-raw.bin')))
    await rm(join(dir, 'a-raw.bin'))
    const started = performance.now()
    const result = await downloader.download(record.hash, {
      to: join(dir, 'a-out.bin'),
      providers: [provider.network.self()],
    }).done
    const ours = (size * 1000) / (performance.now() - started)
    const same = (await sha256File(result.path)) === (await sha256File(src))
    await rm(join(dir, 'a-out.bin'))
    ratios.push(ours / raw)
    console.log(
      `    round ${round}: raw node:net copy ${fmt(raw)}   peerkit ${fmt(ours)}   ratio ${(ours / raw).toFixed(2)}` +
        `   verified: ${result.verified && same}`,
    )
  }
  const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length
  console.log(`    mean ratio ${mean.toFixed(2)} (target >= 0.30)`)
  const loop = await requestLoop(downloader, provider, record.chunkSize, Math.min(size, 512 * MiB))
  console.log(
    `    context: a plain request loop over the peerkit TCP transport, ${record.chunkSize / 1024} KiB answers: ${fmt(loop)}`,
  )
  await downloader.stop()
  await provider.stop()
  await rm(src)
}

async function benchMemory(dir: string, killAt: number | undefined, label: string): Promise<number> {
  const network = new MemoryNetwork()
  const [d, ...providers] = await peers(4, 'memory', join(dir, `${label}-data`), network)
  if (!d) throw new Error('no peers')
  network.setBandwidth((from) =>
    from.startsWith('bench-') && from !== 'bench-0' ? B : Number.POSITIVE_INFINITY,
  )
  const src = join(dir, 'multi-src.bin')
  let hash = ''
  for (const p of providers) hash = (await p.share(src))[0]?.hash ?? ''
  const started = performance.now()
  const dl = d.download(hash, {
    to: join(dir, `${label}-out.bin`),
    providers: providers.map((p) => p.network.self()),
  })
  let killed = false
  dl.on('progress', (p) => {
    if (killAt !== undefined && !killed && p.bytes >= killAt * p.size) {
      killed = true
      void providers[1]?.stop()
    }
  })
  const dropped: string[] = []
  dl.on('source:dropped', (x) => dropped.push(x.reason))
  const result = await dl.done
  const ms = performance.now() - started
  const same = (await sha256File(result.path)) === (await sha256File(src))
  for (const p of [d, ...providers]) await p.stop()
  const rate = (MULTI_SIZE * 1000) / ms
  console.log(
    `(${label}) memory, 3 providers at B = ${fmt(B)} each${killAt ? `, one killed at ${killAt * 100}%` : ''}: ` +
      `${(ms / 1000).toFixed(2)} s, ${fmt(rate)} = ${(rate / B).toFixed(2)} × B, verified: ${result.verified && same}` +
      (dropped.length ? `, dropped: ${dropped.map((r) => r.split(':')[0]).join(', ')}` : ''),
  )
  console.log(`    per source: ${result.sources.map((s) => `${(s.bytes / MiB).toFixed(0)} MiB`).join(', ')}`)
  await rm(result.path)
  return ms
}

const RAW = defineProtocol(
  'bench/raw/1',
  z.object({ n: z.number() }),
  z.object({ data: z.instanceof(Uint8Array) }),
)

/**
 * Context: what the wire itself carries with a plain request loop of the same
 * shape as a download (8 requests in flight, answers of one chunk each).
 */
async function requestLoop(a: Peer, b: Peer, blockSize: number, total: number): Promise<number> {
  const block = Buffer.alloc(blockSize, 7)
  b.network.handle(RAW, () => ({ data: block }))
  let sent = 0
  const started = performance.now()
  const loop = async () => {
    while (sent < total) {
      sent += block.length
      await a.network.request(b.network.self(), RAW, { n: 0 })
    }
  }
  await Promise.all(Array.from({ length: 8 }, loop))
  return (total * 1000) / (performance.now() - started)
}

/** (b0): one memory link limited to B. */
async function rawLink(dir: string): Promise<void> {
  const network = new MemoryNetwork()
  const [a, b] = await peers(2, 'memory', join(dir, 'raw-data'), network)
  if (!a || !b) throw new Error('no peers')
  network.setBandwidth((from) => (from === 'bench-1' ? B : Number.POSITIVE_INFINITY))
  const rate = await requestLoop(a, b, 64 * 1024, 64 * MiB)
  console.log(
    `(b0) memory, one link at B = ${fmt(B)}, plain request loop: ${fmt(rate)} = ${(rate / B).toFixed(2)} × B`,
  )
  await a.stop()
  await b.stop()
}

const dir = await mkdtemp(join(tmpdir(), 'peerkit-bench-transfer-'))
try {
  console.log(`peerkit transfer benchmark (node ${process.version})`)
  await benchTcp(dir)
  await writeFileOf(join(dir, 'multi-src.bin'), MULTI_SIZE)
  await rawLink(dir)
  const b = await benchMemory(dir, undefined, 'b')
  const c = await benchMemory(dir, 0.3, 'c')
  console.log(`(c)/(b) time: ${(c / b).toFixed(2)} (target <= 1.5)`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
