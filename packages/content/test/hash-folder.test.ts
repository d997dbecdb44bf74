import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import {
  chunkSizeFor,
  HASH_SIZE,
  HashCache,
  hashBytes,
  hashFile,
  hashFolder,
  keywords,
  leafAt,
  MerkleTree,
  type SkippedEntry,
  verifyChunk,
} from '../src/index.js'
import { bytesOf, refChunks, refContentHash, refLeaf, refRoot } from './helpers/reference.js'

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-content-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function expectedHash(bytes: Uint8Array): string {
  const chunkSize = chunkSizeFor(bytes.length)
  return refContentHash(bytes.length, chunkSize, refRoot(refChunks(bytes, chunkSize).map(refLeaf)))
}

test('hashFile streams a file to the same root as the reference', async (t) => {
  const dir = await tempDir(t)
  for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536 + 5, 5 * 1024 * 1024 + 3]) {
    const bytes = bytesOf(size, size + 1)
    const path = join(dir, `f${size}.bin`)
    await writeFile(path, bytes)
    const file = await hashFile(path)
    t.is(file.hash, expectedHash(bytes), `size ${size}`)
    t.is(file.hash, hashBytes(bytes).hash)
    t.is(file.size, size)
    t.is(file.leaves.length / HASH_SIZE, refChunks(bytes, file.chunkSize).length)
  }
})

test('hashFolder walks sub-folders in path order; leaves prove chunks', async (t) => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'b', 'c'), { recursive: true })
  const contents: Record<string, Uint8Array> = {
    'a.txt': bytesOf(10, 1),
    'b/c/deep.bin': bytesOf(300_000, 2),
    'b/z.bin': bytesOf(70_000, 3),
  }
  for (const [name, bytes] of Object.entries(contents)) await writeFile(join(dir, name), bytes)
  const seen: string[] = []
  const files = await hashFolder(dir, { onFile: (f) => seen.push(f.name) })
  t.deepEqual(
    files.map((f) => f.path),
    ['a.txt', 'b/c/deep.bin', 'b/z.bin'].map((n) => join(dir, n)),
  )
  t.deepEqual(seen, ['a.txt', 'deep.bin', 'z.bin'])
  const deep = files[1]
  if (!deep) return t.fail()
  const bytes = contents['b/c/deep.bin'] as Uint8Array
  t.is(deep.hash, expectedHash(bytes))
  const tree = new MerkleTree(deep.leaves)
  const chunks = refChunks(bytes, deep.chunkSize)
  for (const [i, chunk] of chunks.entries())
    t.true(
      verifyChunk(
        deep.hash,
        { size: deep.size, chunkSize: deep.chunkSize, root: tree.root },
        i,
        chunk,
        tree.proof(i),
      ),
    )
  t.deepEqual(keywords(deep.name), ['deep', 'bin'])
})

test('worker threads give the same hashes as this thread', async (t) => {
  const dir = await tempDir(t)
  for (let i = 0; i < 4; i++) await writeFile(join(dir, `f${i}.bin`), bytesOf(3 * 1024 * 1024 + i, i + 7))
  const here = await hashFolder(dir, { workers: 1 })
  const pooled = await hashFolder(dir, { workers: 2, workerThreshold: 0 })
  t.deepEqual(
    pooled.map((f) => f.hash),
    here.map((f) => f.hash),
  )
  t.deepEqual(
    Buffer.from(leafAt(pooled[0]?.leaves ?? new Uint8Array(), 0)),
    Buffer.from(leafAt(here[0]?.leaves ?? new Uint8Array(), 0)),
  )
})

test('the cache answers for unchanged files and misses after a change', async (t) => {
  const dir = await tempDir(t)
  const share = join(dir, 'share')
  await mkdir(share)
  await writeFile(join(share, 'one.bin'), bytesOf(200_000, 5))
  await writeFile(join(share, 'two.bin'), bytesOf(1000, 6))
  const cache = new HashCache(join(dir, 'data'))
  const first = await hashFolder(share, { cache })
  t.is(cache.hits, 0)
  t.is(cache.misses, 2)
  const again = await hashFolder(share, { cache: new HashCache(join(dir, 'data')) })
  t.deepEqual(again, first)
  const fresh = new HashCache(join(dir, 'data'))
  await writeFile(join(share, 'two.bin'), bytesOf(1000, 99))
  await utimes(join(share, 'two.bin'), new Date(), new Date(Date.now() + 5000))
  const changed = await hashFolder(share, { cache: fresh })
  t.is(fresh.hits, 1)
  t.is(fresh.misses, 1)
  t.is(changed[0]?.hash, first[0]?.hash)
  t.not(changed[1]?.hash, first[1]?.hash)
  t.is(changed[1]?.hash, expectedHash(bytesOf(1000, 99)))
})

/** A file hashed once through a cache in a fresh folder. */
async function cachedFile(t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t)
  const path = join(dir, 'f.bin')
  await writeFile(path, bytesOf(100_000, 8))
  const cache = new HashCache(join(dir, 'data'))
  const [file] = await hashFolder(path, { cache })
  if (!file) throw new Error('nothing hashed')
  return { dir, path, cache, file }
}

test('a corrupt cache entry is a miss, not a wrong hash', async (t) => {
  const { path, cache, file } = await cachedFile(t)
  await cache.set({ ...file, hash: 'ab'.repeat(32) })
  const again = await hashFolder(path, { cache })
  t.is(again[0]?.hash, file.hash)
  t.is(cache.hits, 0)
})

test('an aborted hash rejects with AbortError', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'f.bin'), bytesOf(4 * 1024 * 1024, 9))
  const ac = new AbortController()
  ac.abort()
  await t.throwsAsync(hashFolder(dir, { signal: ac.signal }), { name: 'AbortError' })
})

test('a cache entry of the old format (a bare Merkle root as the hash) is a miss, and is rewritten', async (t) => {
  const { dir, path, cache, file } = await cachedFile(t)
  const entryPath = join(cache.dir, (await readdir(cache.dir))[0] as string)
  const entry = JSON.parse(await readFile(entryPath, 'utf8'))
  await writeFile(entryPath, JSON.stringify({ ...entry, v: 1, hash: Buffer.from(file.root).toString('hex') }))
  const old = new HashCache(join(dir, 'data'))
  t.is((await hashFolder(path, { cache: old }))[0]?.hash, file.hash)
  t.is(old.hits, 0)
  const rewritten = new HashCache(join(dir, 'data'))
  t.is((await hashFolder(path, { cache: rewritten }))[0]?.hash, file.hash)
  t.is(rewritten.hits, 1)
})

test('hashFolder skips hidden files and folders unless asked, and symbolic links, telling onSkip why', async (t) => {
  const dir = await tempDir(t)
  await mkdir(join(dir, '.ssh'), { recursive: true })
  await mkdir(join(dir, 'films'), { recursive: true })
  await writeFile(join(dir, '.ssh', 'id_ed25519'), 'secret key')
  await writeFile(join(dir, '.hidden.secret.txt'), 'secret')
  await writeFile(join(dir, 'films', 'movie.mkv'), bytesOf(1000, 4))
  await symlink(join(dir, 'films', 'movie.mkv'), join(dir, 'link.mkv'))
  const skipped: SkippedEntry[] = []
  const files = await hashFolder(dir, { onSkip: (s) => skipped.push(s) })
  t.deepEqual(
    files.map((f) => f.path),
    [join(dir, 'films', 'movie.mkv')],
  )
  t.deepEqual(
    skipped.map((s) => [s.path, s.reason]),
    [
      [join(dir, '.hidden.secret.txt'), 'hidden'],
      [join(dir, '.ssh'), 'hidden'],
      [join(dir, 'link.mkv'), 'symlink'],
    ],
  )
  const all = await hashFolder(dir, { hidden: true })
  t.deepEqual(
    all.map((f) => f.path),
    [join(dir, '.hidden.secret.txt'), join(dir, '.ssh', 'id_ed25519'), join(dir, 'films', 'movie.mkv')],
  )
  // A hidden path named itself is hashed: the user chose it.
  t.is((await hashFolder(join(dir, '.ssh'))).length, 1)
})
