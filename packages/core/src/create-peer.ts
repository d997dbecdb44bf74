import {
  type DependencyContainer,
  instanceCachingFactory,
  Lifecycle,
  container as rootContainer,
} from 'tsyringe'
import { RealClock } from './clock.js'
import { type PeerConfig, type PeerConfigInput, parsePeerConfig } from './config.js'
import { InvalidOptionsError } from './errors.js'
import { createLogger } from './logger.js'
import { Network } from './network.js'
import { Peer } from './peer.js'
import { Identity, loadOrCreateIdentity } from './peer-id.js'
import { adoptingRegistration, loadPlugins } from './plugins.js'
import { SeededRandom } from './random.js'
import { indexes, overlays, type Registration, transfers, transports } from './registry.js'
import {
  CLOCK,
  IDENTITY,
  INDEX_FACTORY,
  LOCAL_INDEX,
  LOGGER,
  NETWORK,
  PEER_CONFIG,
  PEER_CONTAINER,
  RANDOM,
} from './tokens.js'

export interface CreatePeerComponents {
  /**
   * Parent container: whatever it registers (a virtual `CLOCK`, a `RANDOM`, a
   * shared memory network …) the peer uses instead of the defaults.
   */
  container?: DependencyContainer
  /** The peer's identity; otherwise loaded from `dataDir`, or new. */
  identity?: Identity
}

/** The kinds of component a configuration names, in registration order. */
export type ComponentKind = 'transport' | 'index' | 'transfer' | 'overlay'

/**
 * The registrations of the components `config` names, found by name in the
 * registries, each factory given (and validating) its options: `options['kind:name']`
 * when given, else `options[name]`, which is an error when two of the chosen
 * components share that name.
 */
export function componentRegistrations(
  config: PeerConfig,
  kinds: readonly ComponentKind[] = ['transport', 'index', 'transfer', 'overlay'],
): Registration[] {
  const chosen: [ComponentKind, string][] = [
    ...config.transports.map((t): [ComponentKind, string] => ['transport', t]),
    ['index', config.index],
    ['transfer', config.transfer],
    ['overlay', config.overlay],
  ].filter(([kind]) => kinds.includes(kind as ComponentKind)) as [ComponentKind, string][]
  const optionsOf = (kind: ComponentKind, name: string) => {
    const qualified = `${kind}:${name}`
    if (qualified in config.options) return config.options[qualified]
    const sharing = chosen.filter(([, n]) => n === name)
    if (name in config.options && sharing.length > 1) {
      const fields = sharing.map(([k]) => `options['${k}:${name}']`)
      throw new InvalidOptionsError(
        `config.options.${name} is ambiguous: more than one component is named '${name}'; use ${fields.join(' or ')}`,
      )
    }
    return config.options[name]
  }
  const registries = { transport: transports, index: indexes, transfer: transfers, overlay: overlays }
  return chosen.map(([kind, name]) => adoptingRegistration(registries[kind].get(name)(optionsOf(kind, name))))
}

export interface BuildPeerOptions extends CreatePeerComponents {
  /**
   * Which of the components the configuration names are registered, found by
   * name in the registries: `['transport']` for a Network alone, `['transport',
   * 'index', 'overlay']` for an overlay node without a transfer. @default all four
   */
  components?: readonly ComponentKind[]
  /**
   * Registrations made after the named ones, so they win: a transport built by
   * hand (leave `'transport'` out of `components`), a test's `LOGGER` …
   */
  register?: Registration | readonly Registration[]
}

/**
 * The one way a peer's container is wired (`createPeer` uses it, and so do
 * the test kit, the benches and tools that need a part of a peer): a child
 * of `options.container` with
 *
 * - `PEER_CONFIG`, `PEER_CONTAINER`, `IDENTITY` (given, else new: load one from
 *   `dataDir` with `loadOrCreateIdentity` first);
 * - `CLOCK`, `LOGGER` and `RANDOM`: the parent's when it registers them (a
 *   simulator's virtual clock), else a real clock, a logger at `config.log`
 *   and a random source seeded by `config.seed` (each peer forks the parent's
 *   random source unless the configuration gives a seed);
 * - the components the configuration names (`options.components`), then
 *   `options.register`;
 * - `LOCAL_INDEX` (when an `INDEX_FACTORY` is registered), and the
 *   container-scoped `Network` (also as `NETWORK`) and `Peer`.
 *
 * Synchronous and nothing listens: resolve `NETWORK` (or `Peer`, `OVERLAY` …)
 * and start what you resolved. Every factory validates its options before
 * anything is registered.
 */
export function buildPeerContainer(
  input: PeerConfigInput,
  options: BuildPeerOptions = {},
): DependencyContainer {
  const config = parsePeerConfig(input)
  return wire(config, componentRegistrations(config, options.components), {
    ...options,
    identity: options.identity ?? Identity.generate(),
  })
}

/** Registers a peer's parts into a new child container (see `buildPeerContainer`). */
function wire(
  config: PeerConfig,
  registrations: readonly Registration[],
  options: BuildPeerOptions & { identity: Identity },
): DependencyContainer {
  const c = (options.container ?? rootContainer).createChildContainer()
  c.register(PEER_CONFIG, { useValue: config })
  c.register(PEER_CONTAINER, { useValue: c })
  c.register(IDENTITY, { useValue: options.identity })
  c.register(NETWORK, { useToken: Network })
  if (!c.isRegistered(CLOCK, true)) c.register(CLOCK, { useValue: new RealClock() })
  if (!c.isRegistered(LOGGER, true)) c.register(LOGGER, { useValue: createLogger({ level: config.log }) })
  if (!c.isRegistered(RANDOM, true) || config.seed !== undefined) {
    c.register(RANDOM, { useValue: new SeededRandom(config.seed) })
  } else {
    // Each peer gets its own stream, derived from the shared one.
    c.register(RANDOM, { useValue: c.resolve(RANDOM).fork() })
  }
  const extra = options.register
  for (const register of [...registrations, ...(typeof extra === 'function' ? [extra] : (extra ?? []))])
    register(c)
  if (c.isRegistered(INDEX_FACTORY, true) && !c.isRegistered(LOCAL_INDEX))
    c.register(LOCAL_INDEX, {
      useFactory: instanceCachingFactory((cc) => cc.resolve(INDEX_FACTORY)('shares')),
    })
  c.register(Network, { useClass: Network }, { lifecycle: Lifecycle.ContainerScoped })
  c.register(Peer, { useClass: Peer }, { lifecycle: Lifecycle.ContainerScoped })
  return c
}

/**
 * Builds one peer: validates the configuration, imports the modules it names in
 * `plugins` (`loadPlugins`), and wires its container with `buildPeerContainer`
 * (the identity loaded from `dataDir` when there is one), then resolves the
 * `Peer` facade. Nothing listens until `start()`.
 */
export async function createPeer(
  input: PeerConfigInput,
  components: CreatePeerComponents = {},
): Promise<Peer> {
  const config = parsePeerConfig(input)
  // Plugins register their implementations before any name is looked up.
  if (config.plugins.length > 0) await loadPlugins(config.plugins)
  // Every factory validates its options before anything is built.
  const registrations = componentRegistrations(config)
  const identity =
    components.identity ?? (config.dataDir ? await loadOrCreateIdentity(config.dataDir) : Identity.generate())
  const c = wire(config, registrations, { ...components, identity })
  const peer = c.resolve(Peer)
  compactContainer(c)
  return peer
}

/** The private shape of a tsyringe 4.10 registry (its `RegistryBase`): token → list. */
interface RegistryInternals {
  _registryMap?: unknown
}

/**
 * Trims the bookkeeping a tsyringe container keeps, without changing what it
 * resolves: tsyringe 4.10 grows each token's list of registrations with `push`
 * (room for 17), and leaves an empty list under every token it was ever asked
 * about, in its registry and in both interceptor maps. Dropping the empty
 * lists (a missing token and an empty list read the same to it) and copying
 * the others to size saves about 3 KB per peer, which counts when a
 * simulator keeps 100,000 of them. Leaves anything it does not recognise alone.
 *
 * This is the one place core reaches into tsyringe's private state, for the
 * simulator's sake: it pins nothing (a tsyringe whose registry has another
 * shape is left as it is, and peers only cost more memory), and
 * test/create-peer.test.ts fails when it stops applying, so an upgrade of
 * tsyringe is noticed and this function adapted or removed.
 */
function compactContainer(c: DependencyContainer): void {
  const internals = c as unknown as {
    _registry?: RegistryInternals
    interceptors?: { preResolution?: RegistryInternals; postResolution?: RegistryInternals }
  }
  const registries = [
    internals._registry,
    internals.interceptors?.preResolution,
    internals.interceptors?.postResolution,
  ]
  for (const registry of registries) {
    const map = registry?._registryMap
    if (!(map instanceof Map)) continue
    const compact = new Map<unknown, unknown[]>()
    for (const [token, list] of map) {
      if (!Array.isArray(list)) return
      if (list.length > 0) compact.set(token, list.slice())
    }
    ;(registry as RegistryInternals)._registryMap = compact
  }
}
