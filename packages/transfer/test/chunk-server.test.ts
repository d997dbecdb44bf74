import { mkdtemp, readdir, readlink, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commitsTo, equalBytes, hashFile, merkleRoot, verifyChunk } from '@peerkit/content'
import test from 'ava'
import { ChunkServer, type SharedFile } from '../src/index.js'
import { bytesOf } from './helpers/bytes.js'

async function served(t: { teardown: (fn: () => Promise<void>) => void }, size: number) {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-server-'))
  const server = new ChunkServer()
  t.teardown(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  const bytes = bytesOf(size, 3)
  const path = join(dir, 'file.bin')
  await writeFile(path, bytes)
  const file = await hashFile(path)
  server.add(file)
  return { server, file, bytes }
}

test('serves the manifest, chunks and proofs of a shared file', async (t) => {
  const { server, file, bytes } = await served(t, 200_000)
  const m = await server.handle({ op: 'manifest', hash: file.hash, from: 0, count: 100 })
  if (m.op !== 'manifest') return t.fail()
  t.is(m.count, 4)
  t.true(equalBytes(merkleRoot(m.leaves), m.root))
  t.true(commitsTo(file.hash, m), 'the header (size, chunk size, root) gives the hash')
  const c = await server.handle({
    op: 'chunk',
    hash: file.hash,
    index: 3,
    offset: 0,
    length: 200_000 - 3 * 65_536,
  })
  if (c.op !== 'chunk') return t.fail()
  t.deepEqual(Buffer.from(c.data), Buffer.from(bytes.subarray(3 * 65_536)))
  const part = await server.handle({ op: 'chunk', hash: file.hash, index: 1, offset: 100, length: 50 })
  if (part.op !== 'chunk') return t.fail()
  t.deepEqual(Buffer.from(part.data), Buffer.from(bytes.subarray(65_536 + 100, 65_536 + 150)))
  const p = await server.handle({ op: 'proof', hash: file.hash, index: 2 })
  if (p.op !== 'proof') return t.fail()
  t.true(verifyChunk(file.hash, p, 2, bytes.subarray(2 * 65_536, 3 * 65_536), p.proof))
  t.false(verifyChunk(file.hash, p, 2, bytes.subarray(3 * 65_536), p.proof))
})

test('refuses hashes it does not share and ranges past the end, revealing no path', async (t) => {
  const { server, file } = await served(t, 100_000)
  const other = 'ab'.repeat(32)
  const e1 = await t.throwsAsync(
    server.handle({ op: 'chunk', hash: other, index: 0, offset: 0, length: 10 }),
    {
      name: 'NotFoundError',
    },
  )
  t.notRegex(e1?.message ?? '', /\//)
  await t.throwsAsync(server.handle({ op: 'manifest', hash: other, from: 0, count: 1 }), {
    name: 'NotFoundError',
  })
  await t.throwsAsync(server.handle({ op: 'chunk', hash: file.hash, index: 2, offset: 0, length: 1 }), {
    name: 'InvalidOptionsError',
  })
  const e2 = await t.throwsAsync(
    server.handle({ op: 'chunk', hash: file.hash, index: 1, offset: 30_000, length: 10_000 }),
    {
      name: 'InvalidOptionsError',
    },
  )
  t.notRegex(e2?.message ?? '', /file\.bin|tmp/)
  await t.throwsAsync(server.handle({ op: 'proof', hash: file.hash, index: 9 }), {
    name: 'InvalidOptionsError',
  })
  await t.throwsAsync(server.handle({ op: 'manifest', hash: file.hash, from: 2, count: 1 }), {
    name: 'InvalidOptionsError',
  })
})

test('an unshared file is no longer served', async (t) => {
  const { server, file } = await served(t, 1000)
  t.true(await server.remove(file.hash))
  await t.throwsAsync(server.handle({ op: 'chunk', hash: file.hash, index: 0, offset: 0, length: 10 }), {
    name: 'NotFoundError',
  })
})

test('serves more files than it keeps open, reading many at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-server-'))
  const server = new ChunkServer()
  t.teardown(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  const files: Array<{ file: SharedFile; bytes: Uint8Array }> = []
  for (let i = 0; i < 80; i++) {
    const bytes = bytesOf(1000 + i, i + 1)
    const path = join(dir, `f${i}.bin`)
    await writeFile(path, bytes)
    files.push({ file: server.add(await hashFile(path)), bytes })
  }
  const answers = await Promise.all(
    [...files, ...files].map(({ file }) =>
      server.handle({ op: 'chunk', hash: file.hash, index: 0, offset: 0, length: file.size }),
    ),
  )
  answers.forEach((res, i) => {
    const { bytes } = files[i % files.length] as { bytes: Uint8Array }
    t.deepEqual(res.op === 'chunk' ? Buffer.from(res.data) : undefined, Buffer.from(bytes))
  })
})

test('a file changed on disk after it was shared is withdrawn, never served stale: a clear NotFoundError, onGone told once', async (t) => {
  const { server, file, bytes } = await served(t, 200_000)
  const gone: string[] = []
  server.onGone = (f, why) => gone.push(`${f.hash}:${why}`)
  const first = await server.handle({ op: 'chunk', hash: file.hash, index: 0, offset: 0, length: 100 })
  t.is(first.op, 'chunk')
  // Modified in place, same size: the mtime differs from what was hashed.
  const changed = Buffer.from(bytes)
  changed[10] = (changed[10] ?? 0) ^ 0xff
  await writeFile(file.path, changed)
  await utimes(file.path, new Date(), new Date(file.mtimeMs + 5000))
  const err = await t.throwsAsync(
    server.handle({ op: 'chunk', hash: file.hash, index: 0, offset: 0, length: 100 }),
    { name: 'NotFoundError' },
  )
  t.regex(err?.message ?? '', /changed on the provider's disk.*no longer served under this hash/)
  t.notRegex(err?.message ?? '', /\//, 'no path revealed')
  t.deepEqual(gone, [`${file.hash}:changed`])
  t.false(server.has(file.hash))
  await t.throwsAsync(server.handle({ op: 'manifest', hash: file.hash, from: 0, count: 1 }), {
    name: 'NotFoundError',
  })
  t.is(gone.length, 1)
})

test('a shared file deleted from disk is withdrawn at the next request (gone)', async (t) => {
  const { server, file } = await served(t, 70_000)
  const gone: string[] = []
  server.onGone = (_f, why) => gone.push(why)
  await rm(file.path)
  await t.throwsAsync(server.handle({ op: 'manifest', hash: file.hash, from: 0, count: 1 }), {
    name: 'NotFoundError',
    message: /no longer available/,
  })
  t.deepEqual(gone, ['gone'])
  t.false(server.has(file.hash))
})

/** How many of this process's descriptors are open on `path` (Linux: the links in /proc/self/fd). */
async function descriptorsOn(path: string): Promise<number> {
  let n = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '') // closed since the listing
    if (target === path) n++
  }
  return n
}

test('requests in flight when the server closes or the file is unshared leave no descriptor open', async (t) => {
  const { server, file } = await served(t, 200_000)
  const chunk = { op: 'chunk', hash: file.hash, index: 1, offset: 0, length: 65_536 } as const
  // Each request is between its check of the file and its read when the file is unshared, then when the
  // server closes: before the fix, the read opened a handle again that nobody closed.
  const removed = server.handle(chunk)
  await server.remove(file.hash)
  t.is((await removed).op, 'chunk', 'a request that began before the file was unshared is answered')
  server.add(await hashFile(file.path))
  const first = server.handle(chunk)
  const closing = server.close()
  t.is((await first).op, 'chunk', 'a request that began before close is answered')
  await closing
  const late = await server.handle(chunk)
  t.is(late.op, 'chunk')
  t.is(await descriptorsOn(file.path), 0, 'no descriptor left open on the shared file')
})
