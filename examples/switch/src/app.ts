import { basename, join } from 'node:path'
import {
  createPeer,
  type DownloadResult,
  type FileRecord,
  type Hit,
  loadConfigFile,
  type Peer,
  type PeerConfigInput,
} from '@peerkit/core'
import type { DependencyContainer } from 'tsyringe'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '@peerkit/transport-tcp'

// ── The overlay wiring: every strategy is registered; the config file picks one ──
import '@peerkit/overlay-central'
import '@peerkit/overlay-chord'
import '@peerkit/overlay-flooding'
import '@peerkit/overlay-supernode'

/**
 * How a peer joins the overlay the config file names. The file is a peer
 * configuration (`{ "overlay": "chord", "options": { "chord": { … } } }`, the
 * same file `peerkit node --config` reads); `join` becomes `bootstrap`
 * (for `central`, the directory server).
 */
async function overlayConfig(configFile: string, joinAddresses: string[]): Promise<PeerConfigInput> {
  const file = await loadConfigFile(configFile)
  return { ...file, bootstrap: joinAddresses }
}
// ─────────────────────────────────────────────────────────────────────────────

export interface AppOptions {
  /** The JSON config file that names the overlay and its options. */
  config: string
  /** `tcp` between machines, `memory` inside one process. @default 'tcp' */
  transport?: 'tcp' | 'memory'
  /** Addresses to listen on: `tcp://0.0.0.0:0`, `memory://alice`. */
  listen: string[]
  /** Addresses to join through (for `central`: the directory server). */
  join: string[]
  /** A folder (or file) to share. */
  share?: string
  /** What to search for: keywords or a content hash. */
  search?: string
  /** Folder to download the first hit into (needs `search`). */
  out?: string
  /** Folder for the identity key and partial downloads. */
  dataDir?: string
  /** Milliseconds the search may take. @default 3000 */
  searchTimeout?: number
  /** Parent container (a shared memory network in tests). */
  container?: DependencyContainer
  /** Narration, one line per step. @default nothing */
  log?: (line: string) => void
}

export interface AppResult {
  /** The running peer: it keeps serving its shares until `stop()`. */
  peer: Peer
  shared: FileRecord[]
  hits: Hit[]
  download?: DownloadResult
  stop(): Promise<void>
}

/** Starts a peer, shares a folder, searches, and downloads the first hit from the peers that have it. */
export async function run(options: AppOptions): Promise<AppResult> {
  const log = options.log ?? (() => {})
  const config = await overlayConfig(options.config, options.join)
  const peer = await createPeer(
    {
      ...config,
      transport: options.transport ?? config.transport ?? 'tcp',
      listen: options.listen,
      dataDir: options.dataDir ?? config.dataDir,
    },
    { container: options.container },
  )
  const overlay = peer.overlay.name
  await peer.start()
  log(
    `peer ${peer.id} listening on ${peer.addresses().join(', ')} (overlay ${overlay}, from ${options.config})`,
  )
  try {
    const shared = options.share ? await peer.share(options.share) : []
    if (options.share) log(`sharing ${shared.length} file(s) from ${options.share}`)
    const hits = options.search ? await searchAll(peer, options.search, options.searchTimeout ?? 3000) : []
    if (options.search) log(`found ${hits.length} file(s) for "${options.search}"`)
    for (const hit of hits)
      log(`  ${hit.name}  ${hit.size} bytes  ${hit.providers.length} provider(s)  ${hit.hash}`)
    let download: DownloadResult | undefined
    const first = hits.find((h) => h.providers.some((p) => p.id !== peer.id))
    if (options.out && first) {
      const to = join(options.out, basename(first.name))
      log(`downloading ${first.name} to ${to}`)
      const providers = first.providers.filter((p) => p.id !== peer.id)
      download = await peer.download(first.hash, { to, providers }).done
      log(`downloaded ${download.size} bytes from ${download.sources.length} source(s), verified`)
    }
    return { peer, shared, hits, download, stop: () => peer.stop() }
  } catch (err) {
    await peer.stop()
    throw err
  }
}

/** Every hit of a search, one per content hash with its providers merged. */
async function searchAll(peer: Peer, query: string, timeout: number): Promise<Hit[]> {
  const byHash = new Map<string, Hit>()
  for await (const hit of peer.search(query, { timeout })) {
    const seen = byHash.get(hit.hash)
    if (!seen) byHash.set(hit.hash, { ...hit, providers: [...hit.providers] })
    else for (const p of hit.providers) if (!seen.providers.some((q) => q.id === p.id)) seen.providers.push(p)
  }
  return [...byHash.values()]
}
