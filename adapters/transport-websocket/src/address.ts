import { InvalidOptionsError } from '@peerkit/core'

export interface WebSocketAddress {
  secure: boolean
  host: string
  port: number
  /** The URL path, `/` when none. */
  path: string
}

/** True for `ws://…` and `wss://…`. */
export function isWebSocketAddress(address: string): boolean {
  return address.startsWith('ws://') || address.startsWith('wss://')
}

/**
 * Parses `ws://HOST:PORT[/PATH]` or `wss://…` (the port defaults to 80 and
 * 443); throws `InvalidOptionsError` naming the address. `listening` allows
 * port 0 (a free port).
 */
export function parseWebSocketAddress(address: string, listening = false): WebSocketAddress {
  let url: URL
  try {
    url = new URL(address)
  } catch (err) {
    throw new InvalidOptionsError(`not a WebSocket address: '${address}' (expected ws://HOST:PORT)`, {
      cause: err,
    })
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidOptionsError(
      `not a WebSocket address: '${address}' (expected ws://HOST:PORT or wss://…)`,
    )
  }
  const secure = url.protocol === 'wss:'
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') throw new InvalidOptionsError(`WebSocket address '${address}' has no host`)
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port)
  if (!listening && port === 0) throw new InvalidOptionsError(`cannot dial port 0 ('${address}')`)
  if (url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new InvalidOptionsError(`WebSocket address '${address}' may not have a query, fragment or user`)
  }
  return { secure, host, port, path: url.pathname === '' ? '/' : url.pathname }
}

/** `ws://HOST:PORT/PATH` (IPv6 hosts in brackets; the path left out when it is `/`). */
export function formatWebSocketAddress(a: WebSocketAddress): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host
  return `${a.secure ? 'wss' : 'ws'}://${host}:${a.port}${a.path === '/' ? '' : a.path}`
}
