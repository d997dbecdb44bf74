import { mkdirSync } from 'node:fs'
import { open, type RootDatabase } from 'lmdb'
import type { ResolvedLmdbIndexOptions } from './options.js'

/** One open LMDB environment and how many indexes use it. */
interface Shared {
  root: RootDatabase
  users: number
}

/** Environments open in this process, by folder: every named index of a peer shares one. */
const open_ = new Map<string, Shared>()
/** Environments being closed, by folder: one is opened there again only once that is done. */
const closing = new Map<string, Promise<void>>()

/**
 * Opens the environment at `path` (or joins the one this process has open
 * there). Each `acquire` is paired with one `release`; the last closes it.
 */
export async function acquire(path: string, options: ResolvedLmdbIndexOptions): Promise<RootDatabase> {
  while (closing.has(path)) await closing.get(path)
  const shared = open_.get(path)
  if (shared) {
    shared.users++
    return shared.root
  }
  mkdirSync(path, { recursive: true })
  const root = open({
    path,
    maxDbs: 256,
    mapSize: options.mapSize,
    noSync: !options.sync,
    // Values as they were put (msgpack keeps a record's extra fields); keys and duplicates ordered.
    encoding: 'msgpack',
  })
  open_.set(path, { root, users: 1 })
  return root
}

/** Gives back one use of the environment at `path`; closes it with the last. */
export async function release(path: string): Promise<void> {
  const shared = open_.get(path)
  if (!shared) return
  shared.users--
  if (shared.users > 0) return
  open_.delete(path)
  const done = shared.root.close().finally(() => closing.delete(path))
  closing.set(path, done)
  await done
}
