// src/index.ts
// A plugin must not need its host to have loaded the polyfill first (it may be preloaded alone).
import 'reflect-metadata'
/**
 * @packageDocumentation
 * `file`: a persistent Index on node:fs. Importing the package registers it;
 * a peer names it with `index: 'file'` and `options: { file: { dir } }`.
 */
import { join } from 'node:path'
import { CLOCK, INDEX_FACTORY, type IndexFactory, indexes, type Registration } from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import { FileIndex } from './file-index.js'
import { parseFileIndexOptions } from './options.js'

export { FileIndex } from './file-index.js'
export { type FileIndexOptions, parseFileIndexOptions, type ResolvedFileIndexOptions } from './options.js'

/**
 * The registration for `index: 'file'`. A named index (the peer's own shares
 * are `shares`) lives in `DIR/NAME.jsonl`; an index asked for without a name
 * (an overlay's cache of other peers' records) stays in memory.
 */
export function fileIndex(options?: unknown): Registration {
  const opts = parseFileIndexOptions(options) // a bad option fails before any container exists
  return (c) => {
    c.register(INDEX_FACTORY, {
      useFactory: (cc): IndexFactory => {
        const clock = cc.resolve(CLOCK) // records put with an expiry lapse by the peer's clock
        return (name) =>
          name === undefined
            ? new MemoryIndex({ clock })
            : new FileIndex(join(opts.dir, `${safeName(name)}.jsonl`), opts, { clock })
      },
    })
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

indexes.register('file', fileIndex)
