// src/address.ts
import { InvalidOptionsError } from '@peerkit/core'

/** True for `ws://HOST:PORT` addresses. */
export function isStreamAddress(address: string): boolean {
  return address.startsWith('ws://')
}

/** Host and port of `ws://HOST:PORT` (port 0 only where `listening`). */
export function parseStreamAddress(address: string, listening = false): { host: string; port: number } {
  let url: URL
  try {
    url = new URL(address)
  } catch (err) {
    throw new InvalidOptionsError(`'${address}' is not a ws://HOST:PORT address`, { cause: err })
  }
  const port = Number(url.port)
  if (url.protocol !== 'ws:' || url.hostname === '' || url.pathname !== '/' || url.search !== '')
    throw new InvalidOptionsError(`'${address}' is not a ws://HOST:PORT address`)
  if (url.port === '' || (port === 0 && !listening))
    throw new InvalidOptionsError(`'${address}' needs a port${listening ? '' : ' other than 0'}`)
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port }
}

export function formatStreamAddress(host: string, port: number): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
}
