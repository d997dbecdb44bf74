import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile } from '@peerkit/content'
import { type Network, type PeerRef, RateLimitError, SeededRandom } from '@peerkit/core'
import test from 'ava'
import { ChunkDownload, ChunkServer, parseTransferOptions, type TransferRequest } from '../src/index.js'
import { bytesOf } from './helpers/bytes.js'
import { EarlyClock } from './helpers/early-clock.js'
import { tempDir } from './helpers/peers.js'

/**
 * A stand-in for the peer's Network that answers from a real ChunkServer,
 * refusing each provider's first `refusals` chunk requests with
 * `RateLimitError` (so the downloader rests that provider).
 */
function refusingNetwork(server: ChunkServer, refusals: number): Network {
  const refused = new Map<string, number>()
  const network: Pick<Network, 'request' | 'learn' | 'connect'> = {
    async request(ref: PeerRef, _protocol: unknown, body: unknown) {
      const req = body as TransferRequest
      if (req.op === 'chunk') {
        const n = refused.get(ref.id) ?? 0
        if (n < refusals) {
          refused.set(ref.id, n + 1)
          throw new RateLimitError(`${ref.id} is busy (transfer.maxServingPerPeer)`)
        }
      }
      return server.handle(req)
    },
    learn() {},
    async connect() {},
  } as unknown as Pick<Network, 'request' | 'learn' | 'connect'>
  return network as Network
}

/** Real ms without a new verified byte, past the virtual limit, after which the download counts as stalled. */
const QUIET_MS = 10_000

/**
 * Drives the clock in 10 ms steps, letting real file I/O run between them,
 * until every chunk is verified and written. Returns false (stalled) once
 * `limit` virtual ms have passed and no byte has arrived for QUIET_MS of real
 * time: disk writes and hashing are real work, slow on a loaded machine, so
 * virtual time alone cannot tell a stall from a busy disk.
 */
async function drive(
  clock: EarlyClock,
  download: ChunkDownload,
  size: number,
  limit: number,
): Promise<boolean> {
  let failed = false
  download.done.catch(() => {
    failed = true // reported by the test's own await of `done`
  })
  let bytes = -1
  let changedAt = Date.now()
  for (let elapsed = 0; !failed; elapsed += 10) {
    const now = download.status().bytes
    if (now === size) return true
    if (now !== bytes) [bytes, changedAt] = [now, Date.now()]
    else if (elapsed >= limit && Date.now() - changedAt >= QUIET_MS) return false
    clock.advance(10)
    await new Promise((r) => setImmediate(r))
  }
  return download.status().bytes === size
}

for (const [providers, refusals] of [
  [1, 1],
  [2, 3],
] as const) {
  test(`a rested provider is asked again though the clock ticks between readings (${providers} provider(s), ${refusals} refusal(s) each)`, async (t) => {
    const dir = await tempDir(t)
    const bytes = bytesOf(300_000, 7)
    const source = join(dir, 'source.bin')
    await writeFile(source, bytes)
    const server = new ChunkServer()
    t.teardown(() => server.close())
    const file = server.add(await hashFile(source))
    const clock = new EarlyClock()
    const download = new ChunkDownload(
      file.hash,
      {
        to: join(dir, 'out.bin'),
        providers: Array.from({ length: providers }, (_, i) => ({ id: `provider-${i}`, addresses: [] })),
      },
      {
        network: refusingNetwork(server, refusals),
        clock,
        random: new SeededRandom(1),
        self: 'self',
        options: parseTransferOptions({
          noProviderTimeout: 60_000,
          maxInFlightPerPeer: 1,
          progressInterval: 10,
        }),
      },
    )
    const progress: number[] = []
    download.on('progress', (p) => progress.push(p.bytes))
    const arrived = await drive(clock, download, bytes.length, 30_000)
    t.true(arrived, `stalled: ${JSON.stringify(download.status())} with ${clock.pending} timer(s) pending`)
    // The rest is real disk work (flush, rename), bounded by ava's timeout.
    const result = await download.done
    t.deepEqual(await readFile(result.path), Buffer.from(bytes))
    // Progress ticks ran while the provider rested: none reported 0 bytes (the first comes with the first chunk).
    t.true(progress.length >= 2 && progress.every((b) => b > 0), JSON.stringify(progress))
  })
}
