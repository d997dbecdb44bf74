import { InvalidOptionsError, type PeerId } from '@peerkit/core'
import { formatTcpAddress, parseTcpAddress, type TcpAddress } from '@peerkit/transport-tcp'

/** The URL scheme of relayed addresses: `relay://RELAY_HOST:RELAY_PORT/PEER_ID`. */
export const RELAY_SCHEME = 'relay:'

/** A parsed relayed address: the relay service's TCP address, and the peer reserved there. */
export interface RelayAddress {
  relay: TcpAddress
  peer: PeerId
}

export function isRelayAddress(address: string): boolean {
  return typeof address === 'string' && address.toLowerCase().startsWith('relay://')
}

/** Parses `relay://HOST:PORT/PEER_ID`; throws `InvalidOptionsError` naming the address. */
export function parseRelayAddress(address: string): RelayAddress {
  const m = /^relay:\/\/([^/]+)\/([A-Za-z0-9_-]{1,128})$/i.exec(address)
  if (!m) {
    throw new InvalidOptionsError(
      `not a relayed address: ${JSON.stringify(address)} (expected relay://RELAY_HOST:PORT/PEER_ID)`,
    )
  }
  return { relay: parseTcpAddress(`tcp://${m[1]}`), peer: m[2] as PeerId }
}

/** `relay://HOST:PORT/PEER_ID`. */
export function formatRelayAddress(relay: TcpAddress, peer: PeerId): string {
  return `relay://${formatTcpAddress(relay.host, relay.port).slice('tcp://'.length)}/${peer}`
}
