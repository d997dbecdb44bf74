/**
 * @packageDocumentation
 * The default `Index`: an in-memory inverted keyword index plus a content-hash
 * map. Importing the package registers it as `memory` in the `indexes` registry.
 *
 * ```ts
 * import '@peerkit/index-memory'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({ overlay: 'central', transport: 'tcp', index: 'memory' })
 *
 * // or on its own:
 * import { MemoryIndex } from '@peerkit/index-memory'
 * const index = new MemoryIndex()
 * await index.put(record)
 * await index.search({ keywords: ['harry', 'potter'], limit: 10 })
 * ```
 */
import { CLOCK, INDEX_FACTORY, type IndexFactory, indexes, type Registration } from '@peerkit/core'
import type { DependencyContainer } from 'tsyringe'
import { MemoryIndex } from './memory-index.js'
import { parseMemoryIndexOptions } from './options.js'

export { MemoryIndex, type MemoryIndexComponents } from './memory-index.js'
export { type MemoryIndexOptions, parseMemoryIndexOptions } from './options.js'

/** Makes a new, empty MemoryIndex on the real clock on every call (the name is ignored: nothing persists). */
export const memoryIndexFactory: IndexFactory = () => new MemoryIndex()

/**
 * The registration for `index: 'memory'`: registers `INDEX_FACTORY` as a
 * factory of new, empty MemoryIndexes on the container's `CLOCK` (a
 * simulator's virtual clock expires records in virtual time; the real clock
 * when the container has none).
 */
export function memoryIndex(options?: unknown): Registration {
  parseMemoryIndexOptions(options)
  return (c: DependencyContainer) => {
    c.register(INDEX_FACTORY, {
      useFactory: (cc): IndexFactory => {
        const clock = cc.isRegistered(CLOCK, true) ? cc.resolve(CLOCK) : undefined
        return () => new MemoryIndex({ clock })
      },
    })
  }
}

indexes.register('memory', memoryIndex)
