import { createPrivateKey } from 'node:crypto'
import { Identity, type Random } from '@peerkit/core'

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * An Ed25519 identity whose key comes from `random`, so a simulated peer's
 * PeerId (and with it, say, its place on the Chord ring) follows from the
 * seed. For simulations only: such a key is as secret as the seed.
 * It costs about 0.4 ms (OpenSSL's key encoders), as `Identity.generate()` does.
 */
export function seededIdentity(random: Random): Identity {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, random.bytes(32)])
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  return Identity.fromPem(key.export({ format: 'pem', type: 'pkcs8' }).toString())
}
