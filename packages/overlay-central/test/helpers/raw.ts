import { type Identity, type PeerRef, RealClock } from '@peerkit/core'
import { CENTRAL, type CentralRequest, type CentralResponse, loginPayload } from '../../src/index.js'
import type { CentralNet, Node } from './net.js'

/** The directory of a test net as a PeerRef. */
export const directoryRef = (net: CentralNet): PeerRef => ({
  id: net.directory.id,
  addresses: [net.directoryAddress],
})

/** One request of the central protocol, sent by hand from `node`. */
export function ask(net: CentralNet, node: Node, request: CentralRequest): Promise<CentralResponse> {
  return node.network.request(directoryRef(net), CENTRAL, request)
}

export interface RawLoginOptions {
  /** Sign with this identity instead of the node's own (a failing key proof). */
  signWith?: Identity
  addresses?: string[]
  timestamp?: number
  reset?: boolean
}

/** hello + login by hand; resolves to the login response. */
export function rawLogin(net: CentralNet, node: Node, o: RawLoginOptions = {}): Promise<CentralResponse> {
  return rawLoginTo(directoryRef(net), node, { timestamp: net.clock.now(), ...o })
}

/** hello + login by hand to the directory at `server`. */
export async function rawLoginTo(
  server: PeerRef,
  node: Node,
  o: RawLoginOptions = {},
): Promise<CentralResponse> {
  const ask = (request: CentralRequest) => node.network.request(server, CENTRAL, request)
  const hello = await ask({ type: 'hello' })
  if (hello.type !== 'hello') throw new Error(`expected hello, got ${hello.type}`)
  const addresses = o.addresses ?? node.addresses()
  const timestamp = o.timestamp ?? new RealClock().now()
  const signer = o.signWith ?? node.identity
  const signature = signer.sign(loginPayload(hello.server, node.id, hello.nonce, addresses, timestamp))
  return ask({ type: 'login', addresses, timestamp, signature, reset: o.reset ?? false })
}
