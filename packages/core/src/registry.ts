import type { DependencyContainer } from 'tsyringe'
import { InvalidOptionsError } from './errors.js'

/** Registers one implementation (and its options) into a peer's container. */
export type Registration = (container: DependencyContainer) => void

/**
 * Makes a Registration from user options. It validates the options first and
 * throws `InvalidOptionsError`, so bad configuration fails before any
 * container or socket exists.
 */
export type Factory = (options?: unknown) => Registration

/** Implementations of one contract, by name. */
export class Registry {
  private readonly factories = new Map<string, Factory>()

  constructor(
    /** The configuration field that names an implementation: `overlay`, `transport` … */
    readonly field: string,
  ) {}

  /** Adds (or replaces) an implementation under `name`. */
  register(name: string, factory: Factory): void {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) {
      throw new InvalidOptionsError(
        `${this.field} names are lowercase letters, digits and dashes (got '${name}')`,
      )
    }
    this.factories.set(name, factory)
  }

  unregister(name: string): void {
    this.factories.delete(name)
  }

  has(name: string): boolean {
    return this.factories.has(name)
  }

  names(): string[] {
    return [...this.factories.keys()].sort()
  }

  /** The factory for `name`; throws `InvalidOptionsError` naming the field and the accepted values. */
  get(name: string): Factory {
    const factory = this.factories.get(name)
    if (!factory) {
      const known = this.names()
      throw new InvalidOptionsError(
        `${this.field} must be one of ${known.length ? known.map((n) => `'${n}'`).join(', ') : '(none registered)'} (got '${name}'); ` +
          `an implementation is registered when its package is imported, or named in config.plugins`,
      )
    }
    return factory
  }
}

// One set of registries per process, even if two copies of core are loaded.
const KEY = Symbol.for('@peerkit/core:registries')
type Registries = { overlays: Registry; transports: Registry; indexes: Registry; transfers: Registry }
const g = globalThis as unknown as Record<symbol, Registries | undefined>
const registries: Registries = g[KEY] ?? {
  overlays: new Registry('overlay'),
  transports: new Registry('transport'),
  indexes: new Registry('index'),
  transfers: new Registry('transfer'),
}
g[KEY] = registries

/** Overlay strategies by name: `central`, `flooding`, `supernode`, `chord`, and any a plugin adds. */
export const overlays = registries.overlays
/** Transports by name: `memory`, `tcp`, `webrtc`. */
export const transports = registries.transports
/** Index implementations by name: `memory`. */
export const indexes = registries.indexes
/** Transfer implementations by name: `default`. */
export const transfers = registries.transfers
