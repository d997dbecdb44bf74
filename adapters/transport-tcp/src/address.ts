import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { InvalidOptionsError } from '@peerkit/core'

/** The URL scheme of TCP addresses. */
export const TCP_SCHEME = 'tcp:'

/** A parsed `tcp://HOST:PORT` address. */
export interface TcpAddress {
  /** A host name or an IP address, without IPv6 brackets. */
  host: string
  port: number
}

/** True for strings that look like `tcp://…`. */
export function isTcpAddress(address: string): boolean {
  return typeof address === 'string' && address.toLowerCase().startsWith('tcp://')
}

/**
 * Parses `tcp://HOST:PORT` (`tcp://[::1]:4001` for IPv6). Port 0 is allowed
 * only when `allowPortZero` (listening). Throws `InvalidOptionsError`.
 */
export function parseTcpAddress(address: string, allowPortZero = false): TcpAddress {
  let url: URL
  try {
    url = new URL(address)
  } catch (err) {
    throw new InvalidOptionsError(
      `not a tcp address: ${JSON.stringify(address)} (expected tcp://HOST:PORT)`,
      {
        cause: err,
      },
    )
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port === '' ? Number.NaN : Number(url.port)
  if (
    url.protocol !== TCP_SCHEME ||
    host === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535 ||
    (port === 0 && !allowPortZero)
  ) {
    throw new InvalidOptionsError(
      `not a tcp address: ${JSON.stringify(address)} (expected tcp://HOST:PORT with PORT 1-65535${allowPortZero ? ', or 0 to pick a free one' : ''})`,
    )
  }
  return { host, port }
}

/** `tcp://HOST:PORT`, with brackets around IPv6 hosts. */
export function formatTcpAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`
}

/**
 * The addresses a listener bound to `host` is reachable at: the host itself,
 * or for a wildcard (`0.0.0.0`, `::`) every address of this machine's
 * interfaces (IPv4 only for `0.0.0.0`; link-local IPv6 addresses are left out).
 */
export function reachableAddresses(host: string, port: number): string[] {
  const v4 = host === '0.0.0.0'
  const any = host === '::'
  if (!v4 && !any) return [formatTcpAddress(host, port)]
  const out: string[] = []
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4') out.push(formatTcpAddress(info.address, port))
      else if (any && !info.address.toLowerCase().startsWith('fe80:'))
        out.push(formatTcpAddress(info.address, port))
    }
  }
  return out.length > 0 ? out : [formatTcpAddress(v4 ? '127.0.0.1' : '::1', port)]
}
