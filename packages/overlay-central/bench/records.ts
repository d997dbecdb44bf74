/**
 * The records and searches of `npm run bench:directory`, shared by the bench
 * and its directory servers (a server fills its own registry with `--seed`):
 * the same deterministic vocabulary in every process, names made as they are
 * sent or stored, never held.
 */
import { createHash } from 'node:crypto'
import { type FileRecord, keywords, type PeerRef, type Query } from '@peerkit/core'

/** Deterministic pseudo-random numbers: every run registers and searches the same things. */
let seed = 2463534242
export const rnd = (n: number): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % n
}
/** 20,000 pseudo-words of 4 to 9 letters: a vocabulary where a 3-letter prefix or substring is selective, as in real names. */
const WORDS = Array.from({ length: 20_000 }, () => {
  let w = ''
  for (let n = 4 + rnd(6); n > 0; n--) w += String.fromCharCode(97 + rnd(26))
  return w
})
const word = () => WORDS[rnd(WORDS.length)] as string

/** Records `from` to `from + n` of client (or seeded provider) number `client`, provided by `provider`. */
export function recordsFor(provider: PeerRef, client: number, from: number, n: number): FileRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const f = from + i
    const name = `${word()}.${word()}.${word()}.${client.toString(36)}x${f.toString(36)}.mkv`
    return {
      hash: createHash('sha256').update(name).digest('hex'),
      name,
      size: 700_000_000,
      chunkSize: 1_048_576,
      keywords: keywords(name),
      provider,
    }
  })
}

/** Two whole words of a registered name (half), a word's prefix (a quarter), a substring of a word (a quarter). */
export function makeQueries(names: string[], limit: number): Query[] {
  return Array.from({ length: 2000 }, (_, i) => {
    const kws = keywords(names[rnd(names.length)] as string)
    const w = kws[rnd(3)] as string
    if (i % 4 === 1) return { keywords: [w.slice(0, 3)], limit }
    if (i % 4 === 3) return { keywords: [w.slice(1, 5)], limit }
    return { keywords: [kws[0] as string, kws[2] as string], limit }
  })
}
