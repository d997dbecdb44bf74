import { readFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import { type Gateway, pmpNat, upnpNat } from '@achingbrain/nat-port-mapper'
import type { Logger } from '@peerkit/core'

/** What a router granted: the external port remote peers reach the listen port at. */
export interface MappedPort {
  via: 'nat-pmp' | 'upnp'
  internalHost: string
  internalPort: number
  externalHost: string
  externalPort: number
}

/** The IPv4 default gateway from the kernel's routing table (Linux), if any. */
export async function defaultGateway(): Promise<string | undefined> {
  const table = await readFile('/proc/net/route', 'utf8').catch(() => '') // not Linux: no NAT-PMP gateway known
  for (const line of table.split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/)
    if (destination !== '00000000' || !gateway || gateway === '00000000') continue
    const n = Number.parseInt(gateway, 16)
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.')
  }
  return undefined
}

/** The host to map for a listener bound to `host` (a wildcard maps the first external IPv4 address). */
export function internalHost(host: string): string | undefined {
  if (host !== '0.0.0.0' && host !== '::') return host
  for (const infos of Object.values(networkInterfaces()))
    for (const i of infos ?? []) if (i.family === 'IPv4' && !i.internal) return i.address
  return undefined
}

/**
 * Asks the router to forward the listen port (`nat.portMapping`): NAT-PMP to
 * the default gateway first, then a UPnP IGD found by SSDP, each within
 * `timeout`. What is mapped is not trusted either: the relay's dial-back must
 * still reach it before the peer advertises it. `stop()` removes the mappings.
 */
export class PortMapper {
  private readonly gateways: Gateway[] = []

  constructor(
    private readonly log: Logger,
    private readonly timeout: number,
  ) {}

  async map(host: string, port: number): Promise<MappedPort | undefined> {
    const internal = internalHost(host)
    if (!internal) {
      this.log.info('no port mapping: no IPv4 address to map', { host })
      return undefined
    }
    const gw = await defaultGateway()
    if (gw) {
      const pmp = pmpNat(gw, { description: 'peerkit' })
      try {
        const m = await pmp.map(port, internal, {
          protocol: 'tcp',
          externalPort: port,
          signal: AbortSignal.timeout(this.timeout),
        })
        this.gateways.push(pmp)
        return this.mapped('nat-pmp', m)
      } catch (err) {
        this.log.info('no NAT-PMP mapping', { gateway: gw, error: (err as Error).message })
        await pmp.stop().catch(() => {}) // nothing was mapped through it
      }
    }
    const signal = AbortSignal.timeout(this.timeout)
    try {
      for await (const upnp of upnpNat({ description: 'peerkit' }).findGateways({ signal })) {
        try {
          const m = await upnp.map(port, internal, { protocol: 'tcp', externalPort: port, signal })
          this.gateways.push(upnp)
          return this.mapped('upnp', m)
        } catch (err) {
          this.log.info('no UPnP mapping', { gateway: upnp.host, error: (err as Error).message })
          await upnp.stop().catch(() => {}) // nothing was mapped through it
        }
      }
    } catch (err) {
      this.log.info('no UPnP gateway', { error: (err as Error).message })
    }
    return undefined
  }

  /** Removes every mapping made. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.gateways.map((g) => g.stop()))
    this.gateways.length = 0
  }

  private mapped(
    via: MappedPort['via'],
    m: { internalHost: string; internalPort: number; externalHost: string; externalPort: number },
  ): MappedPort {
    const { internalHost, internalPort, externalHost, externalPort } = m
    this.log.info('port mapped', {
      via,
      internal: `${internalHost}:${internalPort}`,
      external: `${externalHost}:${externalPort}`,
    })
    return { via, internalHost, internalPort, externalHost, externalPort }
  }
}
