/**
 * @packageDocumentation
 * The embedded persistent `Index` on LMDB, the default of a node with a data
 * folder (`peerkit node --data DIR`). Importing the package registers it as
 * `lmdb` in the `indexes` registry; every named index of a peer (`shares`,
 * `shared-files`, `chord`, `directory`) lives in one LMDB environment,
 * `DATADIR/index/` unless `options.lmdb.path` says otherwise.
 *
 * ```ts
 * import '@peerkit/index-lmdb'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({ overlay: 'chord', transport: 'tcp', index: 'lmdb', dataDir: './data' })
 *
 * // or on its own:
 * import { LmdbIndex, parseLmdbIndexOptions } from '@peerkit/index-lmdb'
 * const index = new LmdbIndex('./data/index', 'shares', parseLmdbIndexOptions({}))
 * await index.open()
 * await index.put(record)
 * await index.search({ keywords: ['harry', 'potter'], limit: 10 })
 * await index.close()
 * ```
 */
import { join } from 'node:path'
import {
  CLOCK,
  INDEX_FACTORY,
  type IndexFactory,
  InvalidOptionsError,
  indexes,
  PEER_CONFIG,
  type Registration,
} from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import type { DependencyContainer } from 'tsyringe'
import { LmdbIndex, type LmdbIndexComponents } from './lmdb-index.js'
import { parseLmdbIndexOptions, type ResolvedLmdbIndexOptions } from './options.js'

export { LmdbIndex, type LmdbIndexComponents } from './lmdb-index.js'
export {
  type LmdbIndexOptions,
  lmdbIndexOptionsSchema,
  parseLmdbIndexOptions,
  type ResolvedLmdbIndexOptions,
} from './options.js'

/** The environment folder under a peer's data folder when `options.lmdb.path` is not set. */
export const LMDB_INDEX_DIR = 'index'

/**
 * An IndexFactory over the environment at `path`: a named index is an
 * `LmdbIndex` there (the same name reopens the same records); an unnamed one
 * is a `MemoryIndex` (never persisted).
 */
export function lmdbIndexFactory(
  path: string,
  options: ResolvedLmdbIndexOptions = parseLmdbIndexOptions({}),
  components: LmdbIndexComponents = {},
): IndexFactory {
  return (name) =>
    name === undefined
      ? new MemoryIndex(components)
      : new LmdbIndex(path, safeName(name), options, components)
}

/**
 * The registration for `index: 'lmdb'`: registers `INDEX_FACTORY` over
 * `options.path`, or `DATADIR/index` (a peer without either is refused with
 * `InvalidOptionsError` when its first index is made).
 */
export function lmdbIndex(options?: unknown): Registration {
  const opts = parseLmdbIndexOptions(options) // a bad option fails before any container exists
  return (c: DependencyContainer) => {
    c.register(INDEX_FACTORY, {
      useFactory: (cc): IndexFactory => {
        const config = cc.resolve(PEER_CONFIG)
        const path =
          opts.path ?? (config.dataDir === undefined ? undefined : join(config.dataDir, LMDB_INDEX_DIR))
        if (path === undefined)
          throw new InvalidOptionsError(
            "index 'lmdb' needs a folder: set dataDir (peerkit node --data DIR) or options.lmdb.path, or choose index 'memory'",
          )
        const clock = cc.isRegistered(CLOCK, true) ? cc.resolve(CLOCK) : undefined // the real clock when none
        return lmdbIndexFactory(path, opts, { clock })
      },
    })
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

indexes.register('lmdb', lmdbIndex)
