import '@peerkit/transport-memory'
import { buildPeerContainer, type Connection, Identity, Network, TRANSPORT } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { DependencyContainer } from 'tsyringe'
// The package's entry: it registers 'webrtc', which makeNode's containers name.
import '../../src/index.js'
import type { WebRtcTransport, WebRtcTransportOptions } from '../../src/index.js'

/** Every wait in these tests gives up after this long. */
export const WAIT = 15_000

/** Options every test transport uses: loopback only. */
export const LOOPBACK: WebRtcTransportOptions = { bindAddress: '127.0.0.1' }

/** One peer's container, Network (signaling over the memory transport) and WebRTC transport. */
export interface Node {
  container: DependencyContainer
  network: Network
  webrtc: WebRtcTransport
  identity: Identity
  stop(): Promise<void>
}

/**
 * A peer as `createPeer` would build it, without overlay or transfer: memory
 * and webrtc transports, core's Network listening on `memory://*`. Memory
 * authentication is off so that a forged identity can reach the relay and
 * be refused by the webrtc transport's own signatures.
 */
export async function makeNode(
  hub: MemoryNetwork,
  identity: Identity = Identity.generate(),
  options: WebRtcTransportOptions = LOOPBACK,
): Promise<Node> {
  const c = buildPeerContainer(
    {
      overlay: 'none',
      transport: ['memory', 'webrtc'],
      listen: ['memory://*'],
      options: { memory: { authenticate: false }, webrtc: options },
    },
    { container: memoryContainer(hub), identity, components: ['transport'] },
  )
  const network = c.resolve(Network)
  await network.start()
  const webrtc = c.resolveAll(TRANSPORT).find((t) => t.name === 'webrtc') as WebRtcTransport
  return {
    container: c,
    network,
    webrtc,
    identity,
    async stop() {
      await network.stop()
      await c.dispose()
    },
  }
}

/** A memory hub and a relay node on it; `join` makes nodes connected to the relay. */
export async function signalingMesh(): Promise<{
  hub: MemoryNetwork
  relay: Node
  join(identity?: Identity, options?: WebRtcTransportOptions): Promise<Node>
  stop(): Promise<void>
}> {
  const hub = new MemoryNetwork()
  const relay = await makeNode(hub)
  const nodes: Node[] = [relay]
  const relayAddress = relay.network.addresses()[0] as string
  return {
    hub,
    relay,
    async join(identity, options) {
      const node = await makeNode(hub, identity, options)
      nodes.push(node)
      await node.network.dialAddress(relayAddress)
      return node
    },
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.stop()))
    },
  }
}

interface Emitter {
  once(event: never, fn: never): unknown
}

/** The first argument of the next `event` (bounded). */
export function next<T = unknown>(emitter: Emitter, event: string, ms = WAIT): Promise<T> {
  return within(
    new Promise<T>((resolve) => emitter.once(event as never, ((v: T) => resolve(v)) as never)),
    event,
    ms,
  )
}

/** The next `n` messages of `conn` (bounded). */
export function collect(conn: Connection, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  return within(
    new Promise((resolve) => {
      const on = (m: Uint8Array) => {
        out.push(m)
        if (out.length === n) {
          conn.off('message', on)
          resolve(out)
        }
      }
      conn.on('message', on)
    }),
    `${n} messages`,
  )
}

/** `promise`, or a rejection after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/** A peer with core's Network on the memory transport only (no webrtc): to play a hostile relay. */
export async function makeBareNode(hub: MemoryNetwork): Promise<Node & { address: string }> {
  const identity = Identity.generate()
  const c = buildPeerContainer(
    {
      overlay: 'none',
      transport: 'memory',
      listen: ['memory://*'],
      options: { memory: { authenticate: false } },
    },
    { container: memoryContainer(hub), identity, components: ['transport'] },
  )
  const network = c.resolve(Network)
  await network.start()
  return {
    container: c,
    network,
    webrtc: undefined as unknown as WebRtcTransport,
    identity,
    address: network.addresses()[0] as string,
    async stop() {
      await network.stop()
      await c.dispose()
    },
  }
}
