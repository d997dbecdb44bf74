import { GenerationCache, Identity, type PeerId, sha256 } from '@peerkit/core'

/**
 * The node-id puzzle (S/Kademlia's static puzzle, Baumgart and Mies 2007):
 * a node's ring id is `H(PeerId)`, and the PeerId is admitted to a routing
 * table only when `H(H(PeerId))` starts with `difficulty` zero bits. Checking
 * costs two SHA-256; finding a key that passes costs about 2^difficulty key
 * generations, and a key that also lands in a chosen arc of the ring (to
 * surround a content key) costs 2^difficulty times more than it did before.
 */
export const ID_PUZZLE_DOMAIN = 'peerkit/chord/id-puzzle/1'

/** Leading zero bits of `SHA-256(SHA-256(peerId))` (0 … 256). */
export function puzzleBits(peerId: PeerId): number {
  const outer = sha256(sha256(new TextEncoder().encode(peerId)))
  let bits = 0
  for (const byte of outer) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/**
 * PeerIds whose puzzle bits `solvesPuzzle` keeps at most (two generations of
 * half: the young one, when full, replaces the old one; about 130 B each, at
 * most about 4 MB per process). Routing checks every node named in every
 * answer; the previous 8,192, cleared when full, missed most checks once a
 * node met more PeerIds than that (a ring of 10,000; the simulator runs at
 * difficulty 0, which checks nothing).
 */
export const PUZZLE_CACHE = 32_768

/** Puzzle bits of the PeerIds checked lately (`PUZZLE_CACHE`). */
const checked = new GenerationCache<PeerId, number>(PUZZLE_CACHE / 2)

/** PeerIds whose puzzle bits are cached now (at most `PUZZLE_CACHE`; for tests and diagnostics). */
export function puzzleCacheSize(): number {
  return checked.size
}

/** True when `peerId` solves the puzzle at `difficulty` (always, at 0). */
export function solvesPuzzle(peerId: PeerId, difficulty: number): boolean {
  if (difficulty <= 0) return true
  let bits = checked.get(peerId)
  if (bits === undefined) {
    bits = puzzleBits(peerId)
    checked.set(peerId, bits)
  }
  return bits >= difficulty
}

/**
 * The identity a chord node uses at `difficulty`: `identity` itself when it
 * solves the puzzle, otherwise the first key derived from it that does. The
 * derivation is deterministic and needs the private key (key i comes from the
 * seed SHA-256(signature of the domain ‖ i), and Ed25519 signatures are
 * deterministic): the same identity.key always gives the same chord identity,
 * so a node keeps its place on the ring across restarts, and a simulation
 * stays reproducible. Costs about 2^difficulty key generations.
 */
export function solvePuzzle(identity: Identity, difficulty: number): Identity {
  if (solvesPuzzle(identity.peerId, difficulty)) return identity
  const base = identity.sign(new TextEncoder().encode(ID_PUZZLE_DOMAIN))
  const counter = new Uint8Array(4)
  for (let i = 0; ; i++) {
    new DataView(counter.buffer).setUint32(0, i >>> 0)
    const seed = sha256(base, counter)
    const candidate = Identity.fromSeed(seed)
    // not through the cache: some 2^difficulty candidates that fail would push out the ring's PeerIds
    if (puzzleBits(candidate.peerId) >= difficulty) return candidate
  }
}
