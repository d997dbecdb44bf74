import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chunkCount, chunkSizeFor, hashBytes } from '@peerkit/content'
import test from 'ava'
import { PartFile } from '../src/index.js'
import { bytesOf } from './helpers/bytes.js'

async function setup(t: { teardown: (fn: () => Promise<void>) => void }, size = 300_000) {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-part-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const bytes = bytesOf(size, 11)
  const { hash, chunkSize, leaves } = hashBytes(bytes)
  const spec = {
    path: join(dir, 'out.bin'),
    hash,
    size,
    chunkSize,
    count: chunkCount(size, chunkSize),
    leaves,
  }
  const chunk = (i: number) => bytes.subarray(i * chunkSize, Math.min(size, (i + 1) * chunkSize))
  return { spec, bytes, chunk }
}

test('a part file resumes with the chunks its sidecar lists, re-verified', async (t) => {
  const { spec, bytes, chunk } = await setup(t)
  t.is(spec.chunkSize, chunkSizeFor(300_000))
  const a = await PartFile.open(spec)
  t.deepEqual(a.resumed, [])
  await a.write(0, chunk(0))
  await a.write(3, chunk(3))
  await a.close()
  const b = await PartFile.open(spec)
  t.deepEqual(b.resumed, [0, 3])
  await b.write(1, chunk(1))
  await b.write(2, chunk(2))
  await b.write(4, chunk(4))
  await b.finish()
  t.deepEqual(await readFile(spec.path), Buffer.from(bytes))
  await t.throwsAsync(stat(`${spec.path}.part`))
  await t.throwsAsync(stat(`${spec.path}.part.json`))
})

test('a chunk listed but damaged on disk is not trusted', async (t) => {
  const { spec, chunk } = await setup(t)
  const a = await PartFile.open(spec)
  await a.write(0, chunk(0))
  await a.write(1, chunk(1))
  await a.close()
  const raw = await readFile(`${spec.path}.part`)
  raw[10] = (raw[10] as number) ^ 0xff
  await writeFile(`${spec.path}.part`, raw)
  const b = await PartFile.open(spec)
  t.deepEqual(b.resumed, [1])
  await b.close()
})

test('without a sidecar (a crash before the first save) every chunk is checked', async (t) => {
  const { spec, chunk } = await setup(t)
  const a = await PartFile.open(spec)
  await a.write(2, chunk(2))
  await a.write(4, chunk(4))
  await a.close()
  await rm(`${spec.path}.part.json`)
  const b = await PartFile.open(spec)
  t.deepEqual(b.resumed, [2, 4])
  await b.close()
})

test('a sidecar of another file is ignored', async (t) => {
  const { spec, chunk } = await setup(t)
  const a = await PartFile.open(spec)
  await a.write(0, chunk(0))
  await a.close()
  const other = hashBytes(bytesOf(300_000, 99))
  const b = await PartFile.open({ ...spec, hash: other.hash, leaves: other.leaves })
  t.deepEqual(b.resumed, [])
  await b.close()
})
