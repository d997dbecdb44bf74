/**
 * A browser tab as a peer: the wiring, with no UI. `startBrowserPeer` joins
 * a network of Node peers over WebSocket on the overlay it is told, and
 * `shareFile` / `downloadToStorage` move files through the origin-private
 * file system (OPFS) so a large file never sits in memory.
 */
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-websocket'
import '@peerkit/transport-webrtc'
import '@peerkit/overlay-central'
import '@peerkit/overlay-flooding'
import '@peerkit/overlay-supernode'
import '@peerkit/overlay-chord'
import { chunkSizeFor, fileHash, rememberFileHash } from '@peerkit/content'
import { createPeer, type FileRecord, InvalidOptionsError, type Peer } from '@peerkit/core'

export const OVERLAYS = ['central', 'flooding', 'supernode', 'chord'] as const
export type OverlayName = (typeof OVERLAYS)[number]

export interface BrowserPeerOptions {
  overlay: OverlayName
  /** The site's bootstrap peers (for `central`: its directory), `ws://` or `wss://`. */
  bootstrap: string[]
  /** Per-component options (`options` of the peer config), e.g. `{ chord: { idDifficulty: 4 } }`. */
  options?: Record<string, unknown>
}

/** Reads the overlay and bootstrap peers from a page URL: `?overlay=chord&bootstrap=ws://host:4002,ws://…`. */
export function optionsFromUrl(url: URL): BrowserPeerOptions {
  const overlay = url.searchParams.get('overlay') ?? 'flooding'
  if (!OVERLAYS.includes(overlay as OverlayName)) {
    throw new InvalidOptionsError(`overlay must be one of ${OVERLAYS.join(', ')} (got '${overlay}')`)
  }
  const bootstrap = (url.searchParams.get('bootstrap') ?? '').split(',').filter((a) => a !== '')
  const raw = url.searchParams.get('options')
  return { overlay: overlay as OverlayName, bootstrap, options: raw ? JSON.parse(raw) : undefined }
}

/**
 * Creates and starts the tab's peer: it dials the bootstrap peers over
 * WebSocket, and takes WebRTC connections (`webrtc://<its id>`) signalled
 * through the peers it is connected to, from other tabs and from Node peers.
 */
export async function startBrowserPeer(options: BrowserPeerOptions): Promise<Peer> {
  const peer = await createPeer({
    overlay: options.overlay,
    transport: ['ws', 'webrtc'],
    listen: ['webrtc://*'],
    bootstrap: options.bootstrap,
    options: options.options ?? {},
  })
  await peer.start()
  return peer
}

/** The tab's folders in the origin-private file system. */
export const SHARES = '/shares'
export const DOWNLOADS = '/downloads'

async function folder(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory()
  for (const name of path.split('/').filter((n) => n !== ''))
    dir = await dir.getDirectoryHandle(name, { create: true })
  return dir
}

/** Hashes `file` in a Web Worker: the 32-byte leaf of each chunk, concatenated. */
export function hashInWorker(worker: Worker, file: Blob): Promise<Uint8Array> {
  const id = Math.random()
  return new Promise((resolve, reject) => {
    const onMessage = (ev: MessageEvent<{ id: number; leaves?: Uint8Array; error?: string }>) => {
      if (ev.data.id !== id) return
      worker.removeEventListener('message', onMessage)
      if (ev.data.leaves) resolve(ev.data.leaves)
      else reject(new Error(ev.data.error ?? 'hashing failed'))
    }
    worker.addEventListener('message', onMessage)
    worker.postMessage({ id, file, chunkSize: chunkSizeFor(file.size) })
  })
}

/**
 * Shares a file the user picked: copies it into OPFS (`/shares/NAME`),
 * hashes it in `worker`, and shares it; the peer then serves its chunks
 * from OPFS.
 */
export async function shareFile(peer: Peer, worker: Worker, file: File): Promise<FileRecord[]> {
  const dir = await folder(SHARES)
  const handle = await dir.getFileHandle(file.name, { create: true })
  const writable = await handle.createWritable()
  await writable.write(file)
  await writable.close()
  const stored = await handle.getFile()
  const leaves = await hashInWorker(worker, stored)
  const path = `${SHARES}/${file.name}`
  rememberFileHash(fileHash(path, stored.size, stored.lastModified, chunkSizeFor(stored.size), leaves))
  return peer.share(path)
}

/** The OPFS path a download of `name` goes to. */
export function downloadPath(name: string): string {
  return `${DOWNLOADS}/${name.replace(/[/\\]/g, '_')}`
}

/** A downloaded file, as a Blob read from OPFS (for saving, or for a test to check). */
export async function readStored(path: string): Promise<File> {
  const names = path.split('/').filter((n) => n !== '')
  const name = names.pop() as string
  const dir = await folder(names.join('/'))
  return (await dir.getFileHandle(name)).getFile()
}

/** Offers the downloaded file to the user as a download of the browser. */
export async function saveToDisk(path: string, name: string): Promise<void> {
  const file = await readStored(path)
  const url = URL.createObjectURL(file)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
