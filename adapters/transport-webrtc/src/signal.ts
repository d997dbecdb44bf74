import {
  AuthenticationError,
  defineProtocol,
  type Identity,
  type PeerId,
  peerIdSchema,
  verifySignature,
} from '@peerkit/core'
import { encode } from '@peerkit/core/wire'
import { z } from 'zod'

/** Largest SDP accepted in a signal (non-trickle SDPs with a few candidates are about 1 KiB). */
export const MAX_SDP_SIZE = 16 * 1024

const sdpSchema = z.string().min(1).max(MAX_SDP_SIZE)
const signatureSchema: z.ZodType<Uint8Array> = z
  .custom<Uint8Array>((b) => b instanceof Uint8Array, 'bytes')
  .refine((b) => b.byteLength === 64, 'an Ed25519 signature')

/**
 * An offer on its way from `from` to `to`. A peer that is `to` answers it; any
 * other peer connected to `to` relays it there once and returns the answer.
 */
export const offerSchema = z.object({
  from: peerIdSchema,
  to: peerIdSchema,
  /** Fresh per attempt: binds offer and answer together and names the connection. */
  connection: z.string().regex(/^[0-9a-f]{32}$/, 'a connection id'),
  sdp: sdpSchema,
  signature: signatureSchema,
})

export const answerSchema = z.object({ sdp: sdpSchema, signature: signatureSchema })

export type Offer = z.infer<typeof offerSchema>
export type Answer = z.infer<typeof answerSchema>

/** `peerkit/signal/1`: offers and answers (SDP with all ICE candidates), relayed by a peer both sides reach. */
export const SIGNAL = defineProtocol('peerkit/signal/1', offerSchema, answerSchema)

/**
 * The bytes a side signs: its role, the connection id, both PeerIds (dialer
 * first) and its whole SDP, DTLS fingerprint included. A relay that alters
 * any of it, or replays it in another connection, breaks the signature.
 */
export function signedBytes(
  role: 'offer' | 'answer',
  connection: string,
  dialer: PeerId,
  listener: PeerId,
  sdp: string,
): Uint8Array {
  return encode([SIGNAL.name, role, connection, dialer, listener, sdp])
}

export function signOffer(identity: Identity, to: PeerId, connection: string, sdp: string): Offer {
  const from = identity.peerId
  return {
    from,
    to,
    connection,
    sdp,
    signature: identity.sign(signedBytes('offer', connection, from, to, sdp)),
  }
}

export function signAnswer(identity: Identity, offer: Offer, sdp: string): Answer {
  return { sdp, signature: identity.sign(signedBytes('answer', offer.connection, offer.from, offer.to, sdp)) }
}

/** Throws `AuthenticationError` unless `offer` was signed by `offer.from`. */
export function verifyOffer(offer: Offer): void {
  const data = signedBytes('offer', offer.connection, offer.from, offer.to, offer.sdp)
  if (!verifySignature(offer.from, data, offer.signature)) {
    throw new AuthenticationError(`offer ${offer.connection} from ${offer.from} failed to verify`)
  }
}

/** Throws `AuthenticationError` unless `answer` was signed by the offer's `to`, for this offer. */
export function verifyAnswer(offer: Offer, answer: Answer): void {
  const data = signedBytes('answer', offer.connection, offer.from, offer.to, answer.sdp)
  if (!verifySignature(offer.to, data, answer.signature)) {
    throw new AuthenticationError(`answer for ${offer.connection} from ${offer.to} failed to verify`)
  }
}

/** The DTLS fingerprint an SDP announces (`a=fingerprint:sha-256 AB:CD:…`), upper-case, or undefined. */
export function fingerprintOf(sdp: string): string | undefined {
  const m = /^a=fingerprint:\S+ ([0-9A-Fa-f:]+)\s*$/m.exec(sdp)
  return m?.[1]?.toUpperCase()
}

/**
 * The SDP without its ICE candidates (and end-of-candidates). The answerer
 * applies the offer without them, so it does not start ICE checks before the
 * dialer has its answer: the dialer's side would otherwise connect and begin
 * DTLS before it knows the fingerprint to expect, and both ends would fail.
 * The dialer's checks reach the answerer once it has the answer, and the
 * answerer learns the dialer's address from them (a peer-reflexive candidate).
 */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && !line.startsWith('a=end-of-candidates'))
    .join('\r\n')
}
