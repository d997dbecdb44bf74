import type { PeerId } from '@peerkit/core'

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB']

/** `3145728` → `3.1 MB` (decimal units, as download tools print them). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?'
  let i = 0
  let v = n
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000
    i++
  }
  return i === 0 ? `${v} ${UNITS[i]}` : `${v.toFixed(1)} ${UNITS[i]}`
}

/** `1234` → `1.2 s`, `87` → `87 ms`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** The first characters of a PeerId, enough to tell peers apart on screen. */
export function shortId(id: PeerId): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id
}

/** `1 provider`, `3 providers`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
