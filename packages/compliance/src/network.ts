/**
 * `startNetwork`: core's `Network` alone (no overlay, transfer or index),
 * resolved from a container wired by core's `buildPeerContainer` (the way
 * `createPeer` wires a peer), for transport tests.
 *
 * ```ts
 * const network = await startNetwork(t, {
 *   config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'] },
 *   transports: (c) => tcpTransport({ maxHandshakes: 1 })(c),
 * })
 * ```
 */
import {
  buildPeerContainer,
  CLOCK,
  type Clock,
  type Identity,
  NETWORK,
  type Network,
  type PeerConfigInput,
  type PeerId,
  type PeerRef,
  type Protocol,
} from '@peerkit/core'
import type { DependencyContainer } from 'tsyringe'

export interface StartNetworkOptions {
  /** The peer configuration (`overlay` defaults to 'none'). */
  config: Omit<PeerConfigInput, 'overlay'> & { overlay?: PeerConfigInput['overlay'] }
  /** Registers the transports in the child container, e.g. `memoryTransport()`. */
  transports: (c: DependencyContainer) => void
  /** The parent container. @default tsyringe's root container */
  container?: DependencyContainer
  /** @default the parent container's `CLOCK`, else a real clock */
  clock?: Clock
  /** @default a generated Identity */
  identity?: Identity
}

/** A started Network; stopped, and its container disposed, when the test ends (if `t` is given). */
export async function startNetwork(
  t: { teardown(fn: () => unknown): void } | undefined,
  options: StartNetworkOptions,
): Promise<Network> {
  const c = buildPeerContainer(
    { overlay: 'none', seed: 5, ...options.config },
    {
      container: options.container,
      identity: options.identity,
      components: [],
      register: [
        options.transports,
        (cc) => options.clock && cc.register(CLOCK, { useValue: options.clock }),
      ],
    },
  )
  const network = c.resolve(NETWORK)
  t?.teardown(async () => {
    await network.stop()
    await c.dispose()
  })
  await network.start()
  return network
}

/** A request `recordRequests` saw `network` send, and the answer it got. */
export interface RecordedRequest<Req, Res> {
  peer: PeerRef | PeerId
  body: Req
  answer: Res
}

/**
 * Logs the requests of `protocol` whose body's `kind` is `kind` that
 * `network` sends from now on, each with its answer, in the order the
 * answers come (a request that fails is not logged: its caller sees the
 * error). For overlay tests that check what one kind of message carries.
 *
 * ```ts
 * const hellos = recordRequests(leaf.network, SUPERNODE, 'hello')
 * await clock.sleep(3000)
 * t.true(hellos.every((h) => h.answer?.kind === 'info'))
 * ```
 */
export function recordRequests<Req extends { kind: string }, Res, K extends Req['kind']>(
  network: Network,
  protocol: Protocol<Req, Res>,
  kind: K,
): RecordedRequest<Extract<Req, { kind: K }>, Res>[] {
  const log: RecordedRequest<Extract<Req, { kind: K }>, Res>[] = []
  const request = network.request.bind(network)
  network.request = (async (peer, p, body, options) => {
    const answer = await request(peer, p, body, options)
    if (p.name === protocol.name && (body as { kind?: unknown }).kind === kind)
      log.push({ peer, body: body as Extract<Req, { kind: K }>, answer: answer as Res })
    return answer
  }) as typeof network.request
  return log
}
