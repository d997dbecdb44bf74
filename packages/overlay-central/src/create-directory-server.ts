import {
  buildPeerContainer,
  type CreatePeerComponents,
  componentRegistrations,
  IDENTITY,
  LOGGER,
  loadOrCreateIdentity,
  Network,
  type NetworkOptions,
  type PeerConfigInput,
  type PeerId,
  parsePeerConfig,
} from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { DirectoryServer } from './directory-server.js'
import { type DirectoryServerOptions, parseDirectoryServerOptions } from './options.js'
import { DIRECTORY_SERVER_OPTIONS } from './tokens.js'

/** Open connections a directory keeps before closing idle ones (each is a logged-in peer). */
export const DEFAULT_DIRECTORY_MAX_CONNECTIONS = 100_000

/** What `createDirectoryServer` accepts (`peerkit directory --listen ADDR [--data DIR]`). */
export interface DirectoryServerConfig {
  /** Addresses to listen on: `tcp://0.0.0.0:4001`, `memory://directory`. */
  listen: string[]
  /** Transport(s) by registry name. @default 'tcp' */
  transport?: string | string[]
  /** Index implementation for the registry. @default 'memory' */
  index?: string
  /** Folder for the server's identity key, so it keeps its PeerId across restarts. */
  dataDir?: string
  /** Seed for the random source (nonces); random when absent. */
  seed?: number
  /** The directory's own options. */
  options?: DirectoryServerOptions
  /** Options of the transports and the index, keyed by registry name (`{ tcp: { … } }`). @default {} */
  components?: Record<string, unknown>
  /** @default { maxConnections: 100000 } */
  network?: NetworkOptions
}

/** A running directory server and its network, built in its own child container. */
export interface DirectoryServerHandle {
  readonly id: PeerId
  readonly server: DirectoryServer
  readonly network: Network
  /** Listens and starts answering. */
  start(): Promise<void>
  /** Stops answering, closes every connection and disposes the container. */
  stop(): Promise<void>
  /** The addresses it listens on (the real port when asked for port 0). */
  addresses(): string[]
}

/**
 * Builds a standalone directory server: validates the configuration, makes a
 * tsyringe child container with the named transports and index, a Network and
 * a `DirectoryServer`. Nothing listens until `start()`.
 */
export async function createDirectoryServer(
  input: DirectoryServerConfig,
  components: CreatePeerComponents = {},
): Promise<DirectoryServerHandle> {
  const options = parseDirectoryServerOptions(input.options)
  const config: PeerConfigInput = {
    overlay: 'central',
    transport: input.transport ?? 'tcp',
    index: input.index ?? 'memory',
    listen: input.listen,
    dataDir: input.dataDir,
    seed: input.seed,
    options: input.components ?? {},
    network: { maxConnections: DEFAULT_DIRECTORY_MAX_CONNECTIONS, ...input.network },
  }
  // Checked (the configuration and each component's options) before the identity file is touched.
  componentRegistrations(parsePeerConfig(config), ['transport', 'index'])
  const identity =
    components.identity ?? (config.dataDir ? await loadOrCreateIdentity(config.dataDir) : undefined)
  const c = buildPeerContainer(config, {
    ...components,
    identity,
    components: ['transport', 'index'],
    register: (cc) => {
      cc.register(DIRECTORY_SERVER_OPTIONS, { useValue: options })
      cc.register(DirectoryServer, { useClass: DirectoryServer }, { lifecycle: Lifecycle.ContainerScoped })
    },
  })

  const network = c.resolve(Network)
  const server = c.resolve(DirectoryServer)
  const log = c.resolve(LOGGER).forComponent('peerkit:central:directory')
  let state: 'new' | 'started' | 'stopped' = 'new'
  return {
    id: c.resolve(IDENTITY).peerId,
    server,
    network,
    async start() {
      if (state !== 'new') return
      state = 'started'
      await network.start()
      await server.start()
    },
    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      await server.stop().catch((err) => log.warn('the directory server did not stop cleanly', { err }))
      await network.stop().catch((err) => log.warn("the directory's network did not stop cleanly", { err }))
      await c.dispose()
    },
    addresses: () => network.addresses(),
  }
}
