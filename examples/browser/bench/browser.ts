/**
 * Transfer rates of a browser tab, in the system's Chromium, on one machine:
 *
 *   npm run bench -w @peerkit/example-browser        (after a build)
 *   node examples/browser/dist/bench/browser.js [--mib 64]
 *
 * - Node → tab: a Node peer shares a file, a tab downloads it (WebSocket, AES-256-GCM on WebCrypto in the tab).
 * - tab → tab: a tab shares a file only it has, another tab downloads it (WebRTC data channel, via the page's RTCPeerConnection).
 * - tab → Node: a Node peer the tab never dialed downloads a file only the tab has (WebRTC, node-datachannel).
 * - raw data channel: two RTCPeerConnections in one page, 64 KiB messages with backpressure: the ceiling for WebRTC here.
 * - the page's bundle: bytes of page.js, minified and gzipped.
 */
import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import type { Hit, Peer } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { launch, nodePeers, overlayOptions, servePage } from '../test/helpers/network.js'

const { values: args } = parseArgs({ options: { mib: { type: 'string', default: '64' } } })
const SIZE = Math.round(Number(args.mib) * 1024 * 1024)

// The test helpers take an ava context for their teardowns; the bench runs them at the end.
const teardowns: Array<() => unknown> = []
const t = { teardown: (fn: () => unknown) => teardowns.push(fn) } as unknown as ExecutionContext

const dir = await mkdtemp(join(tmpdir(), 'peerkit-browser-bench-'))
const net = await nodePeers(t, 'flooding', dir, { uploadRate: 0 })
const base = await servePage(t)
const browser = await launch()
const query = `?overlay=flooding&bootstrap=${encodeURIComponent(net.bootstrap.join(','))}&options=${encodeURIComponent(JSON.stringify(overlayOptions('flooding')))}`
const open = async () => {
  const page = await (await browser.newContext()).newPage()
  await page.goto(base + query)
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 })
  return page
}
const [a, b] = [await open(), await open()]
type Page = typeof a

async function find(page: Page, name: string): Promise<Hit> {
  for (let i = 0; i < 60; i++) {
    const hits = (await page.evaluate((q) => (window as any).peerkit.search(q, 3000), name)) as Hit[]
    const hit = hits.find((h) => h.name === name)
    if (hit) return hit
  }
  throw new Error(`${name} not found`)
}

async function tabDownload(page: Page, hit: Hit): Promise<number> {
  const started = performance.now()
  await page.evaluate((h) => (window as any).peerkit.download(h), hit)
  return SIZE / 1e6 / ((performance.now() - started) / 1000)
}

const rows: string[] = []
// Node → tab (WebSocket)
const films = join(dir, 'films')
await mkdir(films, { recursive: true })
await writeFile(join(films, 'node-file.bin'), randomBytes(SIZE))
await (net.peers[1] as Peer).share(films)
rows.push(
  `Node → tab (WebSocket)        ${(await tabDownload(a, await find(a, 'node-file.bin'))).toFixed(1)} MB/s`,
)
// tab → tab (WebRTC)
await b.evaluate(([n, s]) => (window as any).peerkit.shareRandom(n, s), ['tab-file.bin', SIZE] as const)
rows.push(
  `tab → tab (WebRTC)            ${(await tabDownload(a, await find(a, 'tab-file.bin'))).toFixed(1)} MB/s`,
)
// tab → Node (WebRTC, node-datachannel)
const fetcher = net.peers[2] as Peer
let hit: Hit | undefined
for (let i = 0; i < 60 && !hit; i++) {
  for await (const h of fetcher.search('tab-file.bin', { timeout: 3000 }))
    if (h.name === 'tab-file.bin') hit = h
}
if (!hit) throw new Error('the Node peer did not find the tab’s file')
const started = performance.now()
await fetcher.download(hit.hash, {
  to: join(dir, 'got.bin'),
  providers: hit.providers.filter((p) => p.id !== (net.peers[1] as Peer).id),
}).done
rows.push(
  `tab → Node (WebRTC)           ${(SIZE / 1e6 / ((performance.now() - started) / 1000)).toFixed(1)} MB/s`,
)
// raw data channel in the same browser
const raw = (await a.evaluate((n) => (window as any).peerkit.rawChannelRate(n), SIZE)) as number
rows.push(`raw data channel (same page)  ${raw.toFixed(1)} MB/s`)
const page = await readFile(new URL('../web/page.js', import.meta.url))
rows.push(
  `page bundle                   ${(page.length / 1024).toFixed(0)} KiB minified, ${(gzipSync(page).length / 1024).toFixed(0)} KiB gzipped`,
)
console.log(
  `${(SIZE / 2 ** 20).toFixed(0)} MiB files, Chromium ${browser.version()}, one machine (127.0.0.1)\n${rows.join('\n')}`,
)

await browser.close()
for (const fn of teardowns.reverse()) await fn()
await rm(dir, { recursive: true, force: true })
process.exit(0)
