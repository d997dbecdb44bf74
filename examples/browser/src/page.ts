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
