import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkCount, HASH_SIZE, MAX_CHUNK_SIZE, merkleRoot } from '@peerkit/content'
import type { ContentHash, Peer } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import { MAX_CHUNKS, PartFile, TRANSFER_PROTOCOL, type TransferResponse } from '../src/index.js'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { refOf, startPeers, tempDir } from './helpers/peers.js'

// Attacks on the manifest (issue 17, items 1 and 11), over real TCP between in-process peers.
// Serial: each test measures the memory of the whole process, which concurrent tests would add to.

const MiB = 1024 * 1024

interface Dropped {
  peer: string
  reason: string
}

/**
 * Makes `peer` a provider that knows only `hash` and answers every manifest
 * request with `forge(hash)`; returns how many manifest requests it got.
 * Chunk requests get garbage of the length asked.
 */
function lie(peer: Peer, forge: (hash: ContentHash) => TransferResponse): () => number {
  let asked = 0
  peer.network.unhandle(TRANSFER_PROTOCOL)
  peer.network.handle(TRANSFER_PROTOCOL, async (req): Promise<TransferResponse> => {
    if (req.op === 'manifest') {
      asked++
      return forge(req.hash)
    }
    if (req.op === 'chunk') return { op: 'chunk', data: new Uint8Array(req.length).fill(0x5a) }
    throw new Error('no proofs here')
  })
  return () => asked
}

/** The forgery of issue 17 item 1: the hash as the single leaf of a 1000-byte file. */
function oneLeaf(size: number) {
  return (hash: ContentHash): TransferResponse => {
    const leaves = new Uint8Array(Buffer.from(hash, 'hex'))
    return { op: 'manifest', size, chunkSize: 65_536, count: 1, root: merkleRoot(leaves), from: 0, leaves }
  }
}

/**
 * Issue 17 item 11: a header claiming 4 Mi leaves, with a first page of
 * 32 Ki junk leaves. `consistent`: the size (16 TiB) makes the count
 * plausible; otherwise the size is the real one.
 */
function hugeLeafList(realSize: number, consistent: boolean) {
  const leaves = new Uint8Array(32_768 * HASH_SIZE).fill(7)
  const size = consistent ? MAX_CHUNKS * MAX_CHUNK_SIZE : realSize
  const chunkSize = consistent ? MAX_CHUNK_SIZE : 65_536
  return (): TransferResponse => ({
    op: 'manifest',
    size,
    chunkSize,
    count: MAX_CHUNKS,
    root: new Uint8Array(32).fill(9),
    from: 0,
    leaves,
  })
}

/** Samples this process's heap and array buffers every few ms until stopped; returns the peak growth. */
function memoryPeak(): () => number {
  const used = () => {
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
  const base = used()
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, used())
  }, 2)
  return () => {
    clearInterval(timer)
    return Math.max(peak, used()) - base
  }
}

/** What the `.part` of `to` holds: its size and the chunks its sidecar lists as verified. */
async function partState(to: string): Promise<{ size: number; verified: string }> {
  const sidecar = JSON.parse(await readFile(`${to}.part.json`, 'utf8')) as { verified: string }
  return { size: (await stat(`${to}.part`)).size, verified: sidecar.verified }
}

async function setUp(t: ExecutionContext, size: number) {
  const [victim, liar, h1, h2] = await startPeers(t, 4, { wire: 'tcp' })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([h1, h2], dir, size)
  return { victim, liar, h1, h2, dir, record, bytes }
}

for (const told of [false, true]) {
  test.serial(
    `tcp: a provider forging a one-leaf manifest is dropped; two honest ones finish the file and a valid .part is kept whole (size ${told ? 'from the hit' : 'unknown'})`,
    async (t) => {
      const size = 3 * MiB + 123
      const { victim, liar, h1, h2, dir, record, bytes } = await setUp(t, size)
      const asked = lie(liar, oneLeaf(1000))
      const to = join(dir, 'out', 'movie.bin')
      // A valid .part from an earlier, interrupted download: chunks 0, 2 and 5 verified.
      const count = chunkCount(size, record.chunkSize)
      const manifest = await victim.network.request(refOf(h1), TRANSFER_PROTOCOL, {
        op: 'manifest',
        hash: record.hash,
        from: 0,
        count: 32_768,
      })
      if (manifest.op !== 'manifest') return t.fail()
      const part = await PartFile.open({ path: to, hash: record.hash, ...manifest, leaves: manifest.leaves })
      for (const i of [0, 2, 5])
        await part.write(i, bytes.subarray(i * record.chunkSize, (i + 1) * record.chunkSize))
      await part.close()
      const before = await partState(to)
      const expected = told ? { size: record.size, chunkSize: record.chunkSize } : {}

      // The liar alone: refused at its manifest, and the .part is untouched.
      const alone = victim.download(record.hash, { to, providers: [refOf(liar)], ...expected })
      const err = await t.throwsAsync(alone.done)
      t.regex(err?.message ?? '', /sent bad data: the manifest/)
      t.deepEqual(await partState(to), before, 'the .part kept its size and its verified chunks')

      // The liar first, then two honest providers.
      const peak = memoryPeak()
      const dl = victim.download(record.hash, {
        to,
        providers: [refOf(liar), refOf(h1), refOf(h2)],
        ...expected,
      })
      const dropped: Dropped[] = []
      dl.on('source:dropped', (x) => dropped.push(x))
      const result = await dl.done
      const grown = peak()
      t.log(`victim memory peak growth during the download: ${(grown / MiB).toFixed(1)} MiB`)
      t.is(await fileSha(result.path), sha(bytes))
      t.deepEqual(
        dropped.map((d) => d.peer),
        [liar.id],
      )
      t.regex(
        dropped[0]?.reason ?? '',
        told
          ? /^sent bad data: the manifest: manifest of [0-9a-f]{64} says 1000 bytes; the file is 3145851 bytes/
          : /^sent bad data: the manifest: manifest size, chunk size and root do not give the content hash/,
      )
      t.true(result.sources.every((s) => s.id === h1.id || s.id === h2.id))
      t.is(
        result.sources.reduce((n, s) => n + s.bytes, 0),
        size - 3 * record.chunkSize,
      )
      t.is(result.resumedChunks, 3, 'the three chunks of the earlier .part were kept')
      t.is(result.fetchedChunks, count - 3)
      t.is(asked(), 2, 'one manifest page per attempt, nothing more')
      t.true(grown < 64 * MiB, `victim memory grew ${(grown / MiB).toFixed(1)} MiB`)
    },
  )
}

for (const consistent of [false, true]) {
  test.serial(
    `tcp: a manifest of 4 Mi leaves for a small file is refused at its first page, allocating nothing (${consistent ? '16 TiB claimed' : 'the real size claimed'})`,
    async (t) => {
      const size = MiB + 5
      const { victim, liar, h1, dir, record, bytes } = await setUp(t, size)
      const asked = lie(liar, hugeLeafList(size, consistent))
      const peak = memoryPeak()
      const failures: string[] = []
      // Ten attempts, each from the liar alone (the old code allocated 128 MiB per attempt).
      for (let i = 0; i < 10; i++) {
        const attempt = victim.download(record.hash, {
          to: join(dir, `try-${i}.bin`),
          providers: [refOf(liar)],
        })
        const dropped: Dropped[] = []
        attempt.on('source:dropped', (x) => dropped.push(x))
        await t.throwsAsync(attempt.done)
        failures.push(dropped[0]?.reason ?? 'not dropped')
      }
      const grown = peak()
      t.log(`victim memory peak growth over ten attempts: ${(grown / MiB).toFixed(1)} MiB`)
      t.is(asked(), 10, 'one page asked per attempt: the leaf list was never fetched')
      t.true(grown < 64 * MiB, `victim memory grew ${(grown / MiB).toFixed(1)} MiB over ten attempts`)
      for (const reason of failures) {
        t.regex(
          reason,
          consistent
            ? /^sent bad data: the manifest: manifest size, chunk size and root do not give the content hash/
            : /^sent bad data: the manifest: manifest of [0-9a-f]{64} claims 4194304 chunks; a 1048581-byte file has 17/,
        )
      }
      // With the size from the hit, the 16 TiB claim is refused for the size alone.
      const told = victim.download(record.hash, {
        to: join(dir, 'told.bin'),
        providers: [refOf(liar)],
        size: record.size,
      })
      const dropped: Dropped[] = []
      told.on('source:dropped', (x) => dropped.push(x))
      await t.throwsAsync(told.done)
      t.regex(
        dropped[0]?.reason ?? '',
        consistent ? /says 17592186044416 bytes; the file is 1048581 bytes/ : /claims 4194304 chunks/,
      )
      // Honest traffic goes on.
      const ok = await victim.download(record.hash, {
        to: join(dir, 'ok.bin'),
        providers: [refOf(liar), refOf(h1)],
      }).done
      t.is(await fileSha(ok.path), sha(bytes))
      t.is(ok.hash, record.hash)
    },
  )
}
