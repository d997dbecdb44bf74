import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chunkCount, chunkSizeFor, hashBytes } from '@peerkit/content'
import test from 'ava'
import { PartFile, type PartFileSpec } from '../src/index.js'
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

/** A closed part file of `spec` holding the verified chunks `indices` (an interrupted download). */
async function interrupted(spec: PartFileSpec, chunk: (i: number) => Uint8Array, indices: number[]) {
  const part = await PartFile.open(spec)
  for (const i of indices) await part.write(i, chunk(i))
  await part.close()
}

test('the .part of another file is kept aside with its sidecar, never truncated or overwritten', async (t) => {
  const { spec, chunk } = await setup(t)
  await interrupted(spec, chunk, [0])
  const before = await readFile(`${spec.path}.part`)
  const sidecar = await readFile(`${spec.path}.part.json`, 'utf8')
  const other = hashBytes(bytesOf(1000, 99))
  const b = await PartFile.open({ ...spec, size: 1000, count: 1, hash: other.hash, leaves: other.leaves })
  t.deepEqual(b.resumed, [])
  t.is(b.setAside, `${spec.path}.part.${spec.hash.slice(0, 16)}`)
  t.is((await stat(`${spec.path}.part`)).size, 1000)
  await b.close()
  t.deepEqual(await readFile(b.setAside ?? ''), before, 'the other file kept its size and bytes')
  t.is(await readFile(`${b.setAside}.json`, 'utf8'), sidecar)
  // Set aside again under a free name, never over the first one.
  const c = await PartFile.open(spec)
  t.is(c.setAside, `${spec.path}.part.${other.hash.slice(0, 16)}`)
  await c.close()
})

test('a .part without a sidecar is resumed only at the right size; otherwise it is kept aside', async (t) => {
  const { spec } = await setup(t)
  await writeFile(`${spec.path}.part`, bytesOf(spec.size + 10, 5))
  const a = await PartFile.open(spec)
  t.is(a.setAside, `${spec.path}.part.unknown`)
  t.is((await stat(a.setAside ?? '')).size, spec.size + 10)
  await a.close()
  await writeFile(`${spec.path}.part.unknown`, 'taken')
  await rm(`${spec.path}.part.json`)
  await writeFile(`${spec.path}.part`, bytesOf(10, 5))
  const b = await PartFile.open(spec)
  t.is(b.setAside, `${spec.path}.part.unknown-1`)
  await b.close()
})

test('a sidecar of the old format (version-1 hashes) is another file: its .part is kept aside', async (t) => {
  const { spec, chunk } = await setup(t)
  await interrupted(spec, chunk, [1])
  const old = JSON.parse(await readFile(`${spec.path}.part.json`, 'utf8'))
  await writeFile(`${spec.path}.part.json`, JSON.stringify({ ...old, v: 1 }))
  const b = await PartFile.open(spec)
  t.deepEqual(b.resumed, [])
  t.truthy(b.setAside)
  await b.close()
})
