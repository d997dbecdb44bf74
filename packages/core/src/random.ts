import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'

type RandomGenerator = ReturnType<typeof xoroshiro128plus>

/** Chance, injected: every random choice in overlays and transfer goes through one, seeded. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Random bytes (ids, nonces that need not be secret). */
  bytes(n: number): Uint8Array
  /** An independent stream derived from this one (for a child component or a simulated peer). */
  fork(): Random
}

/** xoroshiro128+ from pure-rand; the same seed gives the same sequence. */
export class SeededRandom implements Random {
  private readonly rng: RandomGenerator

  constructor(seed: number | RandomGenerator = Math.floor(Math.random() * 2 ** 31)) {
    this.rng = typeof seed === 'number' ? xoroshiro128plus(seed | 0) : seed
  }

  next(): number {
    return uniformFloat64(this.rng)
  }

  int(n: number): number {
    return n <= 1 ? 0 : uniformInt(this.rng, 0, n - 1)
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.rng.next()
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
    }
    return out
  }

  fork(): Random {
    return new SeededRandom(this.rng.next() ^ this.rng.next())
  }
}

/** Fisher–Yates shuffle of a copy, with `random`. */
export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/** A random element, or undefined for an empty list. */
export function pick<T>(random: Random, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[random.int(items.length)]
}
