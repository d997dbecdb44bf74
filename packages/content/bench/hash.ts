// Hashing benchmark: this thread against worker threads, and a second share through the cache.
// node packages/content/dist/bench/hash.js   (CONTENT_BENCH_MIB=512 by default)
import 'reflect-metadata'
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { HashCache, hashFolder } from '../src/index.js'

const MiB = 1024 * 1024
const TOTAL = Number(process.env.CONTENT_BENCH_MIB ?? 512) * MiB

async function writeFileOf(path: string, size: number, seed: number): Promise<void> {
  const fh = await open(path, 'w')
  const block = Buffer.alloc(4 * MiB, seed)
  for (let off = 0; off < size; off += block.length) {
    block.writeUInt32LE(off / block.length, 0)
    await fh.write(block, 0, Math.min(block.length, size - off), off)
  }
  await fh.close()
}

async function time(label: string, fn: () => Promise<unknown>, bytes: number): Promise<number> {
  const started = performance.now()
  await fn()
  const ms = performance.now() - started
  console.log(
    `  ${label.padEnd(34)} ${(ms / 1000).toFixed(2)} s  ${((bytes / MiB) * (1000 / ms)).toFixed(0)} MiB/s`,
  )
  return ms
}

const dir = await mkdtemp(join(tmpdir(), 'peerkit-bench-hash-'))
try {
  console.log(`hashing ${TOTAL / MiB} MiB, ${availableParallelism()} cores (node ${process.version})`)
  for (const [name, files] of [
    ['one big file', [TOTAL]],
    ['16 files', Array.from({ length: 16 }, () => TOTAL / 16)],
  ] as const) {
    const folder = join(dir, name.replace(/ /g, '-'))
    await mkdir(folder)
    for (const [i, size] of files.entries()) await writeFileOf(join(folder, `f${i}.bin`), size, i + 1)
    console.log(`${name}:`)
    // Warm the page cache so every run reads from memory, as the second share of a folder would.
    await hashFolder(folder, { workers: 1 })
    const here = await time('this thread (workers: 1)', () => hashFolder(folder, { workers: 1 }), TOTAL)
    for (const w of [2, 4]) {
      const ms = await time(
        `${w} worker threads`,
        () => hashFolder(folder, { workers: w, workerThreshold: 0 }),
        TOTAL,
      )
      console.log(`  ${''.padEnd(34)} speed-up ${(here / ms).toFixed(2)}×`)
    }
    const cache = new HashCache(join(dir, `data-${name.replace(/ /g, '-')}`))
    await hashFolder(folder, { cache })
    await time('again, from the cache', () => hashFolder(folder, { cache }), TOTAL)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
