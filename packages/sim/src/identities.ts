import { Identity, type Random } from '@peerkit/core'

/**
 * An Ed25519 identity whose key comes from `random`, so a simulated peer's
 * PeerId (and with it, say, its place on the Chord ring) follows from the
 * seed. For simulations only: such a key is as secret as the seed.
 */
export function seededIdentity(random: Random): Identity {
  return Identity.fromSeed(random.bytes(32))
}
