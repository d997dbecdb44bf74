import { access, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { extname } from 'node:path'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-websocket'
import '@peerkit/transport-webrtc'
import '@peerkit/overlay-central'
import '@peerkit/overlay-flooding'
import '@peerkit/overlay-supernode'
import '@peerkit/overlay-chord'
import { createPeer, type Peer } from '@peerkit/core'
import { createDirectoryServer } from '@peerkit/overlay-central'
import type { ExecutionContext } from 'ava'
import { type Browser, chromium } from 'playwright-core'

/** The system's Chromium (`.ci/run` installs it); PEERKIT_CHROMIUM names another. */
export const CHROMIUM = process.env.PEERKIT_CHROMIUM ?? '/usr/bin/chromium'

export async function launch(): Promise<Browser> {
  try {
    await access(CHROMIUM)
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM}: \`apt-get update && apt-get install -y chromium\` (as .ci/run does), or set PEERKIT_CHROMIUM=/path/to/chromium`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
      // Tabs and Node peers on one machine meet over the loopback interface, with real addresses
      // in their candidates (node-datachannel cannot resolve Chromium's mDNS host names).
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  })
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
}

/** Serves dist/web on 127.0.0.1 (a secure context: OPFS and WebCrypto work there). */
export async function servePage(t: ExecutionContext): Promise<string> {
  const root = new URL('../../web/', import.meta.url)
  const server: Server = createServer(async (req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/$/, '/index.html').slice(1)
    if (!/^[\w.-]+$/.test(name)) return void res.writeHead(404).end()
    try {
      const body = await readFile(new URL(name, root))
      res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream' }).end(body)
    } catch {
      res.writeHead(404).end() // not one of the page's files
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address() as { port: number }
  return `http://127.0.0.1:${address.port}/`
}

/** A peer's WebSocket addresses (what a tab and a new peer can dial). */
export const wsAddresses = (p: Peer) => p.status().addresses.filter((a) => a.startsWith('ws://'))

export type OverlayName = 'central' | 'flooding' | 'supernode' | 'chord'

/** Options that make each overlay settle in seconds on one machine. */
export function overlayOptions(overlay: OverlayName): Record<string, unknown> {
  const webrtc = { bindAddress: '127.0.0.1' }
  if (overlay === 'chord') return { webrtc, chord: { idDifficulty: 4, stabilizeInterval: 300 } }
  return { webrtc }
}

export interface NodeNet {
  peers: Peer[]
  /** What a tab bootstraps from: the directory for central, else the first peer. */
  bootstrap: string[]
}

/** Three Node peers on `overlay`, listening on ws://127.0.0.1 (and for central, a directory). */
export async function nodePeers(
  t: ExecutionContext,
  overlay: OverlayName,
  dataDir: string,
  transfer: { uploadRate: number } = { uploadRate: 750_000 },
): Promise<NodeNet> {
  const options = overlayOptions(overlay)
  let bootstrap: string[] = []
  if (overlay === 'central') {
    // The directory relays WebRTC signals between the peers it serves (tabs included).
    const directory = await createDirectoryServer({
      transport: ['ws', 'webrtc'],
      listen: ['ws://127.0.0.1:0', 'webrtc://*'],
      dataDir: `${dataDir}/directory`,
      components: { webrtc: options.webrtc },
    })
    await directory.start()
    t.teardown(() => directory.stop())
    bootstrap = directory.addresses().filter((a) => a.startsWith('ws://'))
  }
  const peers: Peer[] = []
  for (let i = 0; i < 3; i++) {
    const peer = await createPeer({
      overlay,
      transport: ['ws', 'webrtc'],
      listen: ['ws://127.0.0.1:0', 'webrtc://*'],
      bootstrap: overlay === 'central' ? bootstrap : peers.flatMap(wsAddresses).slice(0, 2),
      // Served at 750 kB/s: the film takes the Node peer about 4 s alone, long enough for a tab's
      // WebRTC connection (about 1 s to open) to take its share.
      options: { ...options, default: transfer },
    })
    await peer.start()
    t.teardown(() => peer.stop())
    peers.push(peer)
  }
  return { peers, bootstrap: overlay === 'central' ? bootstrap : wsAddresses(peers[0] as Peer) }
}
