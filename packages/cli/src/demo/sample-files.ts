import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** A sample file of the demo: its name, size and which peers (by demo name) hold a copy. */
export interface SampleFile {
  name: string
  size: number
  holders: string[]
}

/** The file Alice looks for, held by several peers so she downloads from all of them. */
export const WANTED = 'Harry.Potter.and.the.Chamber.of.Secrets.mkv'
/** Alice's file that Bob downloads meanwhile. */
export const ALICE_FILE = 'The.Hobbit.1937.First.Edition.epub'

/** Demo peer names, in start order; Alice is always the last to join. */
export const NAMES = [
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'oscar',
]

/**
 * Who shares what, for `others` peers besides Alice: the wanted file on up to
 * three of them, a second Harry Potter on one, and a few other files.
 */
export function samplePlan(others: string[]): SampleFile[] {
  const holders = others.slice(0, 3)
  const last = others[others.length - 1] ?? 'bob'
  return [
    { name: WANTED, size: 3 * 1024 * 1024 + 12_345, holders },
    { name: 'Harry.Potter.and.the.Philosophers.Stone.mkv', size: 1536 * 1024, holders: [last] },
    { name: 'Ubuntu.24.04.Desktop.amd64.iso.torrent', size: 48 * 1024, holders: [others[0] ?? 'bob'] },
    { name: 'Big.Buck.Bunny.1080p.mp4', size: 768 * 1024, holders: [last] },
    { name: ALICE_FILE, size: 900 * 1024, holders: ['alice'] },
    { name: 'Holiday.Photos.2026.zip', size: 256 * 1024, holders: ['alice'] },
  ]
}

/**
 * Writes each peer's folder under `root` (`root/bob/…`) with deterministic
 * bytes per file name, so every holder of a name has the same content (one
 * content hash, several providers). Returns the folder of each peer.
 */
export async function writeSampleFiles(root: string, plan: SampleFile[]): Promise<Map<string, string>> {
  const folders = new Map<string, string>()
  for (const file of plan) {
    const bytes = sampleBytes(file.name, file.size)
    for (const holder of file.holders) {
      const dir = join(root, holder)
      if (!folders.has(holder)) {
        await mkdir(dir, { recursive: true })
        folders.set(holder, dir)
      }
      await writeFile(join(dir, file.name), bytes)
    }
  }
  return folders
}

/** `size` pseudo-random bytes seeded by `name` (xorshift32): incompressible, and the same every run. */
export function sampleBytes(name: string, size: number): Buffer {
  let x = 2166136261
  for (let i = 0; i < name.length; i++) x = Math.imul(x ^ name.charCodeAt(i), 16777619) >>> 0
  if (x === 0) x = 1
  const out = Buffer.allocUnsafe(size + ((4 - (size % 4)) % 4))
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.writeUInt32LE(x, i)
  }
  return out.subarray(0, size)
}
