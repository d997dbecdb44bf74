import {
  type DependencyContainer,
  instanceCachingFactory,
  Lifecycle,
  container as rootContainer,
} from 'tsyringe'
import { RealClock } from './clock.js'
import { type PeerConfigInput, parsePeerConfig } from './config.js'
import { InvalidOptionsError } from './errors.js'
import { Network } from './network.js'
import { Peer } from './peer.js'
import { Identity, loadOrCreateIdentity } from './peer-id.js'
import { SeededRandom } from './random.js'
import { indexes, overlays, type Registration, transfers, transports } from './registry.js'
import { CLOCK, IDENTITY, INDEX_FACTORY, LOCAL_INDEX, PEER_CONFIG, PEER_CONTAINER, RANDOM } from './tokens.js'

export interface CreatePeerComponents {
  /**
   * Parent container: whatever it registers (a virtual `CLOCK`, a `RANDOM`, a
   * shared memory network …) the peer uses instead of the defaults.
   */
  container?: DependencyContainer
  /** The peer's identity; otherwise loaded from `dataDir`, or new. */
  identity?: Identity
}

/**
 * Builds one peer: validates the configuration, makes a child container,
 * registers the implementations the configuration names (found by name in the
 * registries) and resolves the `Peer` facade. Nothing listens until `start()`.
 */
export async function createPeer(
  input: PeerConfigInput,
  components: CreatePeerComponents = {},
): Promise<Peer> {
  const config = parsePeerConfig(input)
  const chosen: [string, string][] = [
    ...config.transports.map((t): [string, string] => ['transport', t]),
    ['index', config.index],
    ['transfer', config.transfer],
    ['overlay', config.overlay],
  ]
  const optionsOf = (field: string, name: string) => {
    const qualified = `${field}:${name}`
    if (qualified in config.options) return config.options[qualified]
    if (name in config.options && chosen.filter(([, n]) => n === name).length > 1) {
      const fields = chosen.filter(([, n]) => n === name).map(([f]) => `options['${f}:${name}']`)
      throw new InvalidOptionsError(
        `config.options.${name} is ambiguous: more than one component is named '${name}'; use ${fields.join(' or ')}`,
      )
    }
    return config.options[name]
  }
  // Every factory validates its options before anything is built.
  const registrations: Registration[] = [
    ...config.transports.map((t) => transports.get(t)(optionsOf('transport', t))),
    indexes.get(config.index)(optionsOf('index', config.index)),
    transfers.get(config.transfer)(optionsOf('transfer', config.transfer)),
    overlays.get(config.overlay)(optionsOf('overlay', config.overlay)),
  ]
  const identity =
    components.identity ?? (config.dataDir ? await loadOrCreateIdentity(config.dataDir) : Identity.generate())

  const c = (components.container ?? rootContainer).createChildContainer()
  c.register(PEER_CONFIG, { useValue: config })
  c.register(PEER_CONTAINER, { useValue: c })
  c.register(IDENTITY, { useValue: identity })
  if (!c.isRegistered(CLOCK, true)) c.register(CLOCK, { useValue: new RealClock() })
  if (!c.isRegistered(RANDOM, true) || config.seed !== undefined) {
    c.register(RANDOM, { useValue: new SeededRandom(config.seed) })
  } else {
    // Each peer gets its own stream, derived from the shared one.
    const parent = c.resolve(RANDOM)
    c.register(RANDOM, { useValue: parent.fork() })
  }
  for (const register of registrations) register(c)
  c.register(LOCAL_INDEX, { useFactory: instanceCachingFactory((cc) => cc.resolve(INDEX_FACTORY)('shares')) })
  c.register(Network, { useClass: Network }, { lifecycle: Lifecycle.ContainerScoped })
  c.register(Peer, { useClass: Peer }, { lifecycle: Lifecycle.ContainerScoped })
  return c.resolve(Peer)
}
