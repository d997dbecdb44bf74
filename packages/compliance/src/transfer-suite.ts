/**
 * `transferSuite(test, setup)`: the behaviour every `Transfer` implementation
 * must show, run over real peers that the implementation's own test builds.
 *
 * ```ts
 * // packages/transfer/test/compliance.test.ts
 * import test from 'ava'
 * import { transferSuite } from '@peerkit/compliance'
 * transferSuite(test, { peers: (t, n) => startMyPeers(t, n) })
 * ```
 *
 * The setup interface:
 * - `peers(t, n)` returns `n` started peers that can reach one another by
 *   the `ref` each gives (id and listening addresses). Each has a `transfer`
 *   (the implementation under test, already started) and a `dir`, a folder of
 *   its own that the suite writes shared files and downloads into. `setup`
 *   registers the peers' teardown with `t.teardown`.
 * - `name` (optional) goes into every test title, for files that run the
 *   suite over more than one wire.
 * - Downloads in the suite get their providers explicitly (`providers`), so
 *   no overlay is involved. Files are at most 8 MiB; each test is bounded by
 *   ava's timeout.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Download, DownloadProgress, PeerRef, Transfer } from '@peerkit/core'
import { isContentHash } from '@peerkit/core'
import type { ExecutionContext, TestFn } from 'ava'

export interface TransferTestPeer {
  /** How other peers reach this one. */
  readonly ref: PeerRef
  /** The implementation under test, started. */
  readonly transfer: Transfer
  /** A folder that belongs to this peer, for shared files and downloads. */
  readonly dir: string
}

export interface TransferSuiteSetup {
  /** Told apart in test titles when one file runs the suite more than once (`memory`, `tcp`). */
  name?: string
  /** Builds `n` started peers that reach one another; registers their teardown on `t`. */
  peers(t: ExecutionContext, n: number): Promise<TransferTestPeer[]>
}

/** Writes `size` random bytes to `path` and returns them. */
async function writeRandom(path: string, size: number): Promise<Buffer> {
  const bytes = randomBytes(size)
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, bytes)
  return bytes
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The first progress event of a download. */
function firstProgress(download: Download): Promise<DownloadProgress> {
  return new Promise((resolve) => download.once('progress', resolve))
}

export function transferSuite(avaTest: TestFn, setup: TransferSuiteSetup): void {
  const prefix = setup.name ? `transfer (${setup.name})` : 'transfer'
  const test = (title: string, fn: (t: ExecutionContext) => Promise<void>) =>
    avaTest(title.replace(/^transfer/, prefix), fn)
  test('transfer: a shared file downloads byte-identical and verified', async (t) => {
    const [a, b] = await setup.peers(t, 2)
    if (!a || !b) return t.fail('setup gave too few peers')
    const bytes = await writeRandom(join(a.dir, 'share', 'Harry.Potter.mkv'), 1024 * 1024 + 123)
    const records = await a.transfer.share(join(a.dir, 'share'))
    t.is(records.length, 1)
    const [record] = records
    if (!record) return
    t.true(isContentHash(record.hash))
    t.is(record.name, 'Harry.Potter.mkv')
    t.is(record.size, bytes.length)
    t.deepEqual(record.keywords, ['harry', 'potter', 'mkv'])
    t.is(record.provider.id, a.ref.id)
    const to = join(b.dir, 'out', 'hp.mkv')
    const download = b.transfer.download(record.hash, { to, providers: [a.ref] })
    t.is(download.hash, record.hash)
    const result = await download.done
    t.true(result.verified)
    t.is(result.size, bytes.length)
    t.is(result.path, to)
    t.is(sha(await readFile(to)), sha(bytes))
    t.is(result.resumedChunks, 0)
    t.is(result.fetchedChunks, Math.ceil(bytes.length / record.chunkSize))
    t.deepEqual(result.sources, [{ id: a.ref.id, bytes: bytes.length }])
    t.false(await exists(`${to}.part`))
    t.deepEqual(download.status(), {
      hash: record.hash,
      path: to,
      bytes: bytes.length,
      size: bytes.length,
      state: 'done',
    })
    t.true(b.transfer.downloads().some((d) => d.hash === record.hash && d.state === 'done'))
  })

  test('transfer: an empty file and a folder of files', async (t) => {
    const [a, b] = await setup.peers(t, 2)
    if (!a || !b) return t.fail('setup gave too few peers')
    await writeRandom(join(a.dir, 'f', 'one.bin'), 70_000)
    await writeFile(join(a.dir, 'f', 'empty.txt'), new Uint8Array(0))
    const seen: string[] = []
    const records = await a.transfer.share(join(a.dir, 'f'), { onFile: (r) => seen.push(r.name) })
    t.deepEqual(records.map((r) => r.name).sort(), ['empty.txt', 'one.bin'])
    t.deepEqual(seen.sort(), ['empty.txt', 'one.bin'])
    for (const r of records) {
      const to = join(b.dir, r.name)
      const result = await b.transfer.download(r.hash, { to, providers: [a.ref] }).done
      t.is(sha(await readFile(to)), sha(await readFile(join(a.dir, 'f', r.name))))
      t.is(result.size, r.size)
    }
  })

  test('transfer: several providers serve one download', async (t) => {
    const peers = await setup.peers(t, 4)
    const [d, ...providers] = peers
    if (!d || providers.length < 3) return t.fail('setup gave too few peers')
    const bytes = randomBytes(8 * 1024 * 1024)
    let hash = ''
    for (const p of providers) {
      await writeFile(join(p.dir, 'big.bin'), bytes)
      const [r] = await p.transfer.share(join(p.dir, 'big.bin'))
      hash = r?.hash ?? ''
    }
    const to = join(d.dir, 'big.bin')
    const result = await d.transfer.download(hash, { to, providers: providers.map((p) => p.ref) }).done
    t.is(sha(await readFile(to)), sha(bytes))
    t.is(
      result.sources.reduce((sum, s) => sum + s.bytes, 0),
      bytes.length,
    )
    t.true(result.sources.length >= 2, `chunks came from ${result.sources.length} provider(s)`)
  })

  test('transfer: a hash nobody shares is refused with NotFoundError', async (t) => {
    const [a, b] = await setup.peers(t, 2)
    if (!a || !b) return t.fail('setup gave too few peers')
    await writeRandom(join(a.dir, 'x.bin'), 1000)
    await a.transfer.share(join(a.dir, 'x.bin'))
    const unknown = sha(Buffer.from('not shared anywhere'))
    const to = join(b.dir, 'nothing.bin')
    const download = b.transfer.download(unknown, { to, providers: [a.ref] })
    await t.throwsAsync(download.done, { name: 'NotFoundError' })
    t.is(download.status().state, 'failed')
    t.false(await exists(to))
  })

  test('transfer: an unshared file is no longer served', async (t) => {
    const [a, b] = await setup.peers(t, 2)
    if (!a || !b) return t.fail('setup gave too few peers')
    await writeRandom(join(a.dir, 'x.bin'), 5000)
    const [r] = await a.transfer.share(join(a.dir, 'x.bin'))
    if (!r) return t.fail()
    await a.transfer.unshare([r.hash])
    await t.throwsAsync(b.transfer.download(r.hash, { to: join(b.dir, 'x.bin'), providers: [a.ref] }).done, {
      name: 'NotFoundError',
    })
  })

  test('transfer: an aborted download stops, keeps no final file, and resumes', async (t) => {
    const [a, b] = await setup.peers(t, 2)
    if (!a || !b) return t.fail('setup gave too few peers')
    const bytes = await writeRandom(join(a.dir, 'movie.bin'), 6 * 1024 * 1024)
    const [r] = await a.transfer.share(join(a.dir, 'movie.bin'))
    if (!r) return t.fail()
    const to = join(b.dir, 'movie.bin')
    const ac = new AbortController()
    const first = b.transfer.download(r.hash, { to, providers: [a.ref], signal: ac.signal })
    const progress = await firstProgress(first)
    t.true(progress.bytes > 0)
    ac.abort()
    await t.throwsAsync(first.done, { name: 'AbortError' })
    t.is(first.status().state, 'aborted')
    t.false(await exists(to))
    const second = await b.transfer.download(r.hash, { to, providers: [a.ref] }).done
    const chunks = Math.ceil(bytes.length / r.chunkSize)
    t.true(second.resumedChunks >= 1, `resumed ${second.resumedChunks}`)
    t.is(second.resumedChunks + second.fetchedChunks, chunks)
    t.is(sha(await readFile(to)), sha(bytes))
  })

  test('transfer: a download with no reachable provider fails', async (t) => {
    const [b] = await setup.peers(t, 1)
    if (!b) return t.fail('setup gave too few peers')
    const download = b.transfer.download(sha(Buffer.from('x')), { to: join(b.dir, 'y'), providers: [] })
    const err = await t.throwsAsync(download.done)
    t.true(['NotFoundError', 'PeerUnreachableError'].includes(err?.name ?? ''), err?.name)
  })
}
