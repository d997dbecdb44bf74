import type { ContentHash, FileRecord, Index, PeerId, PeerRef } from '@peerkit/core'

/**
 * An Index that keeps a directory's registrations itself, so the directory
 * holds nothing per registered file in its heap (only per peer): its
 * provider's address range beside each record (a search counts a hash's
 * providers by range, as the range fold does), and the bytes the directory
 * accounts for it, given back when the record goes. `@peerkit/index-postgres`
 * is one; the directory folds the other indexes itself (`RangeFoldedIndex`).
 */
export interface StoredRegistry extends Index {
  /** Puts one provider's records, registered from address range `fold`, with the bytes accounted for each. */
  register(
    records: readonly { record: FileRecord; bytes: number }[],
    options: { fold: string; expiresAt?: number },
  ): Promise<void>
  /** The live registrations of `provider` among `hashes`: hash → bytes accounted. */
  registered(provider: PeerId, hashes: readonly ContentHash[]): Promise<Map<ContentHash, number>>
  /** Removes `provider`'s records of `hashes` (all when absent): the bytes of each live one removed. */
  unregister(provider: PeerId, hashes?: readonly ContentHash[]): Promise<number[]>
  /** The live records of `provider` and the bytes accounted for them. */
  usage(provider: PeerId): Promise<{ records: number; bytes: number }>
  /** Moves every record of `provider` to range `fold` and provider `ref` (it logged in from elsewhere). */
  relocate(provider: PeerId, fold: string, ref: PeerRef): Promise<number>
  /** Moves the expiry of `provider`'s registrations (a lease: one write, whatever it registered). */
  renew(provider: PeerId, expiresAt: number): Promise<number>
}

/** True when `index` keeps a directory's registrations itself. */
export function isStoredRegistry(index: Index): index is StoredRegistry {
  const i = index as Partial<StoredRegistry>
  return (
    typeof i.register === 'function' &&
    typeof i.registered === 'function' &&
    typeof i.unregister === 'function' &&
    typeof i.usage === 'function' &&
    typeof i.relocate === 'function' &&
    typeof i.renew === 'function'
  )
}
