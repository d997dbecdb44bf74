// The node's HTTP API as the page calls it: same origin, the session cookie goes by itself.

export interface PeerRef {
  id: string
  addresses: string[]
}

export interface Hit {
  hash: string
  name: string
  size: number
  providers: PeerRef[]
  hops?: number
}

export interface DownloadStatus {
  hash: string
  bytes: number
  size: number
  state: string
  path: string
  /** Why it waits (state `waiting`) or failed. */
  reason?: string
}

export interface Status {
  id: string
  overlay: string
  role: string
  addresses: string[]
  neighbors: PeerRef[]
  shares: number
  downloads: DownloadStatus[]
}

export interface SharedFolder {
  path: string
  files: Array<{ hash: string; name: string; size: number }>
  /** Entries below the folder left out (hidden files, links …), up to 100, and how many in all. */
  skipped?: Array<{ path: string; reason: string }>
  skippedCount?: number
  /** A finished download shared back. */
  download?: boolean
}

export type DownloadEvent =
  | {
      type: 'progress'
      hash: string
      bytes: number
      size: number
      rate: number
      eta?: number
      sources: Array<{ id: string; bytes: number }>
    }
  | { type: 'done'; result: { hash: string; path: string; size: number; verified: boolean } }
  | { type: 'error'; error: { name: string; message: string } }
  /** The download's state changed: queued, running, waiting (`reason` says why), paused, or a final one. */
  | { type: 'state'; hash: string; state: string; reason?: string }

export interface DownloadUpdate {
  hash: string
  path?: string
  event: DownloadEvent
}

export interface Stats {
  sent: Record<string, number>
  received: Record<string, number>
  [key: string]: unknown
}

/** An answer of the node that is not a success; `message` is the node's. */
export class NodeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'NodeError'
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers = { accept: 'application/json', 'content-type': 'application/json' }
  }
  const res = await fetch(path, init)
  const text = await res.text()
  const parsed = text ? (JSON.parse(text) as unknown) : undefined
  if (!res.ok) throw new NodeError(res.status, errorMessage(parsed) ?? `the node answered ${res.status}`)
  return parsed as T
}

function errorMessage(body: unknown): string | undefined {
  return (body as { error?: { message?: string } } | undefined)?.error?.message
}

/** Calls `onLine` with every JSON line of an NDJSON answer until it ends or `signal` aborts. */
export async function streamLines(
  path: string,
  onLine: (line: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, { signal, headers: { accept: 'application/x-ndjson' } })
  if (!res.ok || !res.body)
    throw new NodeError(res.status, errorMessage(await res.json()) ?? `the node answered ${res.status}`)
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let rest = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    rest += value
    const lines = rest.split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) onLine(JSON.parse(line))
  }
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

export function formatBytes(n: number): string {
  let v = n
  let u = 0
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000
    u++
  }
  return `${u === 0 ? v : v.toFixed(1)} ${UNITS[u]}`
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—'
  const s = Math.ceil(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
