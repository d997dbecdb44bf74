import type { ContentHash } from '@peerkit/core'
import type { ApiHit } from './api-types.js'

/** Folds streamed hits into one per hash, providers merged by id, in order of first arrival. */
export class HitSet {
  private readonly byHash = new Map<ContentHash, ApiHit>()

  /** Adds a hit; returns the providers it brought that were not known before. */
  add(hit: ApiHit): { isNew: boolean; newProviders: ApiHit['providers'] } {
    const known = this.byHash.get(hit.hash)
    if (!known) {
      const copy = { ...hit, providers: dedupe(hit.providers) }
      this.byHash.set(hit.hash, copy)
      return { isNew: true, newProviders: copy.providers }
    }
    const fresh = dedupe(hit.providers).filter((p) => !known.providers.some((k) => k.id === p.id))
    known.providers.push(...fresh)
    if (hit.hops !== undefined && (known.hops === undefined || hit.hops < known.hops)) known.hops = hit.hops
    return { isNew: false, newProviders: fresh }
  }

  get size(): number {
    return this.byHash.size
  }

  hits(): ApiHit[] {
    return [...this.byHash.values()]
  }
}

function dedupe(providers: ApiHit['providers']): ApiHit['providers'] {
  const out: ApiHit['providers'] = []
  for (const p of providers)
    if (!out.some((o) => o.id === p.id)) out.push({ id: p.id, addresses: [...p.addresses] })
  return out
}
