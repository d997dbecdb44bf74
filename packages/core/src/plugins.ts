import { type DependencyContainer, injectable } from 'tsyringe'
import type { Registration } from './registry.js'

export { type LoadPluginsOptions, loadPlugins } from './plugin-loader.js'

/**
 * The registration, made to work when the application has a second copy of tsyringe (a plugin that
 * brought its own): a class decorated by the other copy is unknown to the copy whose container
 * builds it ("TypeInfo not known for …"). What its constructor injects is in reflect-metadata, which
 * every copy shares, so this copy's `injectable()` applied again makes it known, together with every
 * class it injects (for a class this copy knows already, that changes nothing). Each class is
 * adopted once per process.
 */
export function adoptingRegistration(register: Registration): Registration {
  return (c) => register(adoptingContainer(c))
}

const REGISTERING = new Set<PropertyKey>(['register', 'registerType', 'registerSingleton'])

function adoptingContainer(c: DependencyContainer): DependencyContainer {
  return new Proxy(c, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (!REGISTERING.has(key) || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        for (const arg of args)
          adopt(typeof arg === 'function' ? arg : (arg as { useClass?: unknown } | null)?.useClass)
        return value.apply(receiver, args)
      }
    },
  })
}

const adopted = new WeakSet<object>()
const BUILT_INS = new Set<unknown>([
  Object,
  Array,
  Function,
  String,
  Number,
  Boolean,
  Symbol,
  Promise,
  Map,
  Set,
])
const metadata = Reflect as unknown as {
  getMetadata?(key: string, target: object): unknown
  getOwnMetadata?(key: string, target: object): unknown
}

function adopt(target: unknown): void {
  if (typeof target !== 'function' || BUILT_INS.has(target) || adopted.has(target)) return
  adopted.add(target)
  const params = [...((metadata.getMetadata?.('design:paramtypes', target) as unknown[] | undefined) ?? [])]
  const tokens =
    (metadata.getOwnMetadata?.('injectionTokens', target) as Record<string, unknown> | undefined) ?? {}
  for (const [i, token] of Object.entries(tokens)) {
    params[Number(i)] = token !== null && typeof token === 'object' && 'token' in token ? token.token : token
  }
  if (params.length > 0) injectable()(target as new (...args: never[]) => unknown)
  for (const param of params) adopt(param)
}
