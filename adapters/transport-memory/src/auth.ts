/** Bytes of each side's handshake nonce. */
export const NONCE_SIZE = 32

const DOMAIN = new TextEncoder().encode('peerkit/transport-memory/1 ')
const ROLES = { listener: 1, dialer: 2 } as const

/**
 * What a side signs to prove its PeerId: a domain tag, its role (so a
 * signature cannot be reflected back), and the other side's fresh nonce.
 */
export function authMessage(role: keyof typeof ROLES, nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + 1 + nonce.length)
  out.set(DOMAIN)
  out[DOMAIN.length] = ROLES[role]
  out.set(nonce, DOMAIN.length + 1)
  return out
}
