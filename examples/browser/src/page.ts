import 'reflect-metadata'
import type { Download, Hit, Peer } from '@peerkit/core'
import { downloadPath, optionsFromUrl, readStored, saveToDisk, shareFile, startBrowserPeer } from './app.js'

// The page: joins the network the URL names, then searches, downloads (with progress, verified
// chunk by chunk into the origin-private file system) and shares what is dropped on it.
// `window.peerkit` is the same, for scripts and the tests that drive a real Chromium.

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' })
const downloads = new Map<string, Download>()
const finished = new Map<string, Promise<{ path: string; sources: { id: string; bytes: number }[] }>>()

function row(parent: HTMLElement, text: string): HTMLElement {
  const li = document.createElement('li')
  li.textContent = text
  parent.append(li)
  return li
}

async function search(peer: Peer, query: string, timeout = 5000): Promise<Hit[]> {
  const hits: Hit[] = []
  const list = $('hits')
  list.replaceChildren()
  for await (const hit of peer.search(query, { timeout })) {
    hits.push(hit)
    const li = row(list, `${hit.name} (${hit.size} bytes, ${hit.providers.length} providers) `)
    const button = document.createElement('button')
    button.textContent = `Download ${hit.name}`
    button.onclick = () => void download(peer, hit)
    li.append(button)
  }
  return hits
}

/** Downloads a hit from every provider at once into OPFS; resolves with the stored path. */
async function download(
  peer: Peer,
  hit: Hit,
): Promise<{ path: string; sources: { id: string; bytes: number }[] }> {
  const path = downloadPath(hit.name)
  const dl = peer.download(hit.hash, { to: path, providers: hit.providers, size: hit.size })
  downloads.set(hit.hash, dl)
  const li = row($('downloads'), `${hit.name}: 0%`)
  const bar = document.createElement('progress')
  bar.max = hit.size || 1
  li.append(bar)
  dl.on('progress', (p) => {
    bar.value = p.bytes
    li.firstChild!.textContent = `${hit.name}: ${Math.floor((100 * p.bytes) / (p.size || 1))}% `
  })
  const result = await dl.done
  li.firstChild!.textContent = `${hit.name}: verified `
  const save = document.createElement('button')
  save.textContent = `Save ${hit.name}`
  save.onclick = () => void saveToDisk(path, hit.name)
  li.append(save)
  return { path, sources: result.sources ?? [] }
}

/** Sends `bytes` through a data channel between two connections of this page, with backpressure; MB/s. */
async function rawChannelRate(bytes: number): Promise<number> {
  const a = new RTCPeerConnection()
  const b = new RTCPeerConnection()
  a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate)
  b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate)
  const channel = a.createDataChannel('raw')
  channel.binaryType = 'arraybuffer'
  let received = 0
  const done = new Promise<void>((resolve) => {
    b.ondatachannel = (e) => {
      e.channel.binaryType = 'arraybuffer'
      e.channel.onmessage = (m) => {
        received += (m.data as ArrayBuffer).byteLength
        if (received >= bytes) resolve()
      }
    }
  })
  await a.setLocalDescription(await a.createOffer())
  await b.setRemoteDescription(a.localDescription as RTCSessionDescriptionInit)
  await b.setLocalDescription(await b.createAnswer())
  await a.setRemoteDescription(b.localDescription as RTCSessionDescriptionInit)
  await new Promise<void>((resolve) => {
    channel.onopen = () => resolve()
  })
  const piece = new Uint8Array(64 * 1024)
  channel.bufferedAmountLowThreshold = 2 * 1024 * 1024
  const started = performance.now()
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (channel.bufferedAmount > 4 * 1024 * 1024) {
      await new Promise<void>((resolve) => {
        channel.onbufferedamountlow = () => resolve()
      })
    }
    channel.send(piece)
  }
  await done
  const seconds = (performance.now() - started) / 1000
  a.close()
  b.close()
  return bytes / 1e6 / seconds
}

async function main(): Promise<void> {
  const options = optionsFromUrl(new URL(location.href))
  $('overlay').textContent = options.overlay
  const peer = await startBrowserPeer(options)
  $('id').textContent = peer.id
  const api = {
    peer,
    search: (q: string, timeout?: number) => search(peer, q, timeout),
    download: (hit: Hit) => download(peer, hit),
    /** Starts a download and returns at once (`wait` and `progress` follow it). */
    start: (hit: Hit) => {
      const done = download(peer, hit)
      done.catch(() => {}) // `wait` reports it
      finished.set(hit.hash, done)
    },
    wait: (hash: string) => finished.get(hash),
    progress: (hash: string) => downloads.get(hash)?.status().bytes ?? 0,
    share: (file: File) => shareFile(peer, worker, file),
    /** The bytes of a stored file, hex SHA-256 (tests check downloads with it). */
    digest: async (path: string) => {
      const bytes = await (await readStored(path)).arrayBuffer()
      return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join('')
    },
    /** Shares `size` random bytes as `name` (benchmarks: no file to move into the page). */
    shareRandom: (name: string, size: number) => {
      const parts: Uint8Array[] = []
      for (let off = 0; off < size; off += 65536) {
        const piece = new Uint8Array(Math.min(65536, size - off))
        crypto.getRandomValues(piece)
        parts.push(piece)
      }
      return shareFile(peer, worker, new File(parts as BlobPart[], name))
    },
    /** MB/s of a raw data channel between two RTCPeerConnections in this page (the ceiling for WebRTC here). */
    rawChannelRate: (bytes: number) => rawChannelRate(bytes),
    status: () => peer.status(),
    stop: () => peer.stop(),
  }
  ;(window as unknown as { peerkit: typeof api }).peerkit = api
  $('search').onsubmit = (ev) => {
    ev.preventDefault()
    void search(peer, $<HTMLInputElement>('query').value)
  }
  const drop = $('drop')
  drop.ondragover = (ev) => ev.preventDefault()
  drop.ondrop = (ev) => {
    ev.preventDefault()
    for (const file of ev.dataTransfer?.files ?? []) {
      void shareFile(peer, worker, file).then(() => row($('shares'), `${file.name} shared`))
    }
  }
  $('state').textContent = 'ready'
  document.body.dataset.ready = 'true'
}

main().catch((err: Error) => {
  $('state').textContent = `failed: ${err.message}`
  document.body.dataset.failed = err.message
})
