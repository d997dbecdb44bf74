import type { DependencyContainer, InjectionToken } from 'tsyringe'
import type { Clock } from './clock.js'
import type { PeerConfig } from './config.js'
import type { Index, IndexFactory } from './content-index.js'
import type { Logger } from './logger.js'
import type { Network } from './network.js'
import type { Overlay } from './overlay.js'
import type { Identity } from './peer-id.js'
import type { Random } from './random.js'
import type { Transfer } from './transfer.js'
import type { Transport } from './transport.js'

export const TRANSPORT: InjectionToken<Transport> = Symbol.for('@peerkit/core:Transport')
export const OVERLAY: InjectionToken<Overlay> = Symbol.for('@peerkit/core:Overlay')
export const TRANSFER: InjectionToken<Transfer> = Symbol.for('@peerkit/core:Transfer')
/** Makes new, empty Indexes of the configured kind. */
export const INDEX_FACTORY: InjectionToken<IndexFactory> = Symbol.for('@peerkit/core:IndexFactory')
/** The peer's own shares. */
export const LOCAL_INDEX: InjectionToken<Index> = Symbol.for('@peerkit/core:LocalIndex')
export const CLOCK: InjectionToken<Clock> = Symbol.for('@peerkit/core:Clock')
export const RANDOM: InjectionToken<Random> = Symbol.for('@peerkit/core:Random')
export const IDENTITY: InjectionToken<Identity> = Symbol.for('@peerkit/core:Identity')
/** The validated, frozen peer configuration. */
export const PEER_CONFIG: InjectionToken<PeerConfig> = Symbol.for('@peerkit/core:PeerConfig')
/** The peer's own child container (so the Peer can dispose it). */
export const PEER_CONTAINER: InjectionToken<DependencyContainer> = Symbol.for('@peerkit/core:PeerContainer')
/** The peer's root logger; each module logs through `logger.forComponent('peerkit:<package>:<part>')`. */
export const LOGGER: InjectionToken<Logger> = Symbol.for('@peerkit/core:Logger')
/**
 * The peer's `Network`. Inject it by this token rather than by the class: an application with two
 * copies of core (a plugin that brought its own) has two `Network` classes, and injecting the other
 * copy's class builds a second, unstarted Network instead of failing; this symbol is the same in
 * every copy.
 */
export const NETWORK: InjectionToken<Network> = Symbol.for('@peerkit/core:Network')
