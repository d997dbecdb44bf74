import { utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import type { Host, HostNetwork, PeerProcess } from '../../src/index.js'
import { bytesOf, fileSha, sha256, shareFile, shareLinked, waitFor } from './net.js'

export type Overlay = 'central' | 'flooding' | 'supernode' | 'chord'

/** Size of the file a provider is killed in the middle of: big enough, with throttled links, to take seconds. */
export const BIG = 32 * 1024 * 1024
/** Mbit/s each provider may send (tc): 3 providers ≈ 9 MB/s, so 32 MiB takes ~4 s. */
export const PROVIDER_MBIT = 24

interface DownloadEvent {
  type: string
  bytes?: number
  size?: number
  sources?: { id: string; bytes: number }[]
}

/** Writes the big file once, in the network's folder, and returns its path and sha256. */
export async function bigFile(net: HostNetwork): Promise<{ path: string; sha: string }> {
  const bytes = bytesOf(BIG, 7)
  const path = join(net.dir, 'Big.Buck.Bunny.1080p.mkv')
  await writeFile(path, bytes)
  return { path, sha: sha256(bytes) }
}

/** Shares the big file on `providers` (hard links) and throttles their links. Returns their share folders. */
export async function prepareProviders(
  net: HostNetwork,
  providers: Host[],
): Promise<{ dirs: string[]; sha: string }> {
  const { path, sha } = await bigFile(net)
  const dirs = await shareLinked(providers, 'Big.Buck.Bunny.1080p.mkv', path)
  await Promise.all(providers.map((h) => h.throttle(PROVIDER_MBIT)))
  return { dirs, sha }
}

/**
 * The downloader `getter` fetches the big file (found by search) from the
 * providers; once a quarter has arrived and the busiest provider has sent
 * bytes, that provider is SIGKILLed. The download must complete from the
 * others and verify. Returns what was measured.
 */
export async function providerKilledMidDownload(
  t: ExecutionContext,
  getter: PeerProcess,
  providers: PeerProcess[],
  sha: string,
): Promise<{ killedAt: number; elapsedMs: number }> {
  const found = await waitFor(
    `a search on ${getter.host.name} to find all ${providers.length} providers of the big file`,
    async () => {
      const r = await getter.searchApi('big buck bunny', 1500)
      const hit = r.hits[0]
      return hit && hit.providers.length >= providers.length ? hit : undefined
    },
    20_000,
  )
  const out = join(getter.host.dir, 'big.out')
  const started = Date.now()
  const get = getter.get(found.hash, out, 5000)
  let getError: Error | undefined
  get.catch((err: Error) => {
    getError = err // awaited below; kept here so a failure before the kill is shown in the wait's message
  })
  let killed: PeerProcess | undefined
  let killedAt = 0
  await waitFor(
    'the download to pass a quarter with bytes from several providers',
    async () => {
      if (getError) throw new Error(`the download failed before the kill: ${getError.message}`)
      const line = await getter.api(`/downloads/${found.hash}`)
      const ev = JSON.parse(line) as DownloadEvent
      if (ev.type === 'done') throw new Error('the download finished before the kill; throttle harder')
      if (ev.type !== 'progress' || !ev.size || (ev.bytes ?? 0) < ev.size / 4) return false
      const busy = (ev.sources ?? []).filter((s) => s.bytes > 0).sort((a, b) => b.bytes - a.bytes)
      if (busy.length < 2) return false
      killed = providers.find((p) => p.id === busy[0]?.id)
      killedAt = (ev.bytes ?? 0) / ev.size
      return killed !== undefined
    },
    30_000,
    100,
  )
  await (killed as PeerProcess).kill('SIGKILL')
  const result = await get
  t.true(result.verified)
  t.is(result.size, 32 * 1024 * 1024)
  t.is(await fileSha(out), sha)
  const others = result.sources.filter((s) => s.id !== killed?.id && s.bytes > 0)
  t.true(others.length >= 1, 'the rest came from the providers still alive')
  const fromKilled = result.sources.find((s) => s.id === killed?.id)?.bytes ?? 0
  t.true(fromKilled < BIG, 'the killed provider did not send everything')
  const elapsedMs = Date.now() - started
  t.log(`killed ${killed?.host.name} at ${(killedAt * 100).toFixed(0)} %; done in ${elapsedMs} ms, verified`)
  return { killedAt, elapsedMs }
}

/**
 * A liar: `host` shares `name` once (its data folder caches the hash), then
 * the file's bytes are replaced by others of the same size and mtime, and the
 * node restarted: it now publishes a record for a content hash whose bytes it
 * does not have. Returns the running liar.
 */
export async function startLiar(
  host: Host,
  name: string,
  real: Uint8Array,
  start: (share: string) => Promise<PeerProcess>,
): Promise<PeerProcess> {
  const dir = await shareFile(host, name, real)
  const path = join(dir, name)
  // A whole second, so the hash cache's mtime key survives utimes exactly.
  const mtime = Math.floor(Date.now() / 1000) - 60
  await utimes(path, mtime, mtime)
  const first = await start(dir)
  await first.stop()
  const fake = Buffer.from(real)
  for (let i = 0; i < fake.length; i += 4096) fake[i] = (fake[i] ?? 0) ^ 0xff
  await writeFile(path, fake)
  await utimes(path, mtime, mtime)
  return start(dir)
}
