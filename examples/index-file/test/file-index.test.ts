import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FileRecord, Identity, keywords } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import test from 'ava'
import { FileIndex, fileIndex, parseFileIndexOptions } from '../src/index.js'

// Real PeerIds: the log's schema check accepts nothing else.
const ALICE = Identity.generate().peerId
const BOB = Identity.generate().peerId

function folder(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'peerkit-index-file-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function opened(index: FileIndex): Promise<FileIndex> {
  await index.open()
  return index
}

async function all(index: FileIndex): Promise<FileRecord[]> {
  const out: FileRecord[] = []
  for await (const r of index.records()) out.push(r)
  return out
}

function record(name: string, provider: string, n = 0): FileRecord {
  return {
    hash: (n.toString(16).padStart(8, '0') + name.length.toString(16)).padEnd(64, 'a'),
    name,
    size: 1000 + n,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: provider, addresses: ['tcp://127.0.0.1:4001'] },
  }
}

test('what was put, removed and cleared reads back the same after reopening', async (t) => {
  const dir = folder(t)
  const path = join(dir, 'shares.jsonl')
  const options = parseFileIndexOptions({ dir })
  const index = await opened(new FileIndex(path, options))
  await index.put(record('harry potter.mkv', ALICE, 1))
  await index.put(record('harry potter.mkv', BOB, 1))
  await index.put(record('lord of the rings.mkv', ALICE, 2))
  await index.put(record('ubuntu desktop.iso', BOB, 3))
  t.is(await index.remove(record('lord of the rings.mkv', ALICE, 2).hash), 1)
  t.is(await index.removeProvider(BOB), 2)
  const again = await opened(new FileIndex(path, options))
  t.is(await again.count(), 1)
  t.deepEqual(
    (await again.search({ keywords: ['harry'] })).map((h) => h.providers.map((p) => p.id)),
    [[ALICE]],
  )
  t.deepEqual(await again.search({ keywords: ['ubuntu'] }), [])
  await again.clear()
  t.is(await (await opened(new FileIndex(path, options))).count(), 0)
  t.is(readFileSync(path, 'utf8'), '', 'clear leaves an empty log')
})

test('a last line cut short by a crash is dropped; the rest is kept and the log is clean again', async (t) => {
  const dir = folder(t)
  const path = join(dir, 'shares.jsonl')
  const options = parseFileIndexOptions({ dir })
  const index = await opened(new FileIndex(path, options))
  await index.put(record('kept.txt', ALICE, 1))
  appendFileSync(path, '{"op":"put","record":{"hash":"ab') // a write cut short
  const reopened = await opened(new FileIndex(path, options))
  t.is(reopened.dropped, 1)
  t.is(await reopened.count(), 1)
  await reopened.put(record('after the crash.txt', ALICE, 2))
  const third = await opened(new FileIndex(path, options))
  t.is(third.dropped, 0, 'the torn line was removed, so the next write does not land on it')
  t.is(await third.count(), 2)
})

test('a line that parses but is no valid change (a forged record) is dropped, not trusted', async (t) => {
  const dir = folder(t)
  const path = join(dir, 'shares.jsonl')
  appendFileSync(path, `${JSON.stringify({ op: 'put', record: { hash: 'not a hash', name: 'x' } })}\n`)
  const index = await opened(new FileIndex(path, parseFileIndexOptions({ dir })))
  t.is(index.dropped, 1)
  t.is(await index.count(), 0)
})

test('the log is compacted once it grows past compactRatio × the live records', async (t) => {
  const dir = folder(t)
  const path = join(dir, 'shares.jsonl')
  const options = parseFileIndexOptions({ dir, fsync: false, compactRatio: 2, compactMinLines: 50 })
  const index = await opened(new FileIndex(path, options))
  const r = record('churned.bin', ALICE, 7)
  for (let i = 0; i < 500; i++)
    await index.put({ ...r, name: `churned ${i}.bin`, keywords: keywords(`churned ${i}`) })
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).length
  t.true(lines <= 50, `500 replacements of one record leave ${lines} lines`)
  const reopened = await opened(new FileIndex(path, options))
  t.deepEqual(
    (await reopened.search({ keywords: ['churned'] })).map((h) => h.name),
    ['churned 499.bin'],
  )
  t.true(statSync(path).size < 50 * 400)
})

test('fileIndex validates its options before anything is built, naming the field', async (t) => {
  t.throws(() => fileIndex({}), { name: 'InvalidOptionsError', message: /file\.dir/ })
  t.throws(() => fileIndex({ dir: '/tmp/x', compactRatio: 1 }), {
    name: 'InvalidOptionsError',
    message: /file\.compactRatio/,
  })
  t.throws(() => fileIndex({ dir: '/tmp/x', fsycn: true }), { name: 'InvalidOptionsError', message: /fsycn/ })
})

test('after 2,000 random puts and removes, the reopened index holds exactly the live records', async (t) => {
  const dir = folder(t)
  const path = join(dir, 'shares.jsonl')
  const options = parseFileIndexOptions({ dir, fsync: false, compactMinLines: 300 })
  const index = await opened(new FileIndex(path, options))
  const providers = [ALICE, BOB, Identity.generate().peerId]
  let seed = 7
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed % n
  }
  for (let i = 0; i < 2000; i++) {
    const provider = providers[next(3)] as string
    const r = record(`file ${next(50)}.bin`, provider, next(50))
    const op = next(10)
    if (op < 6) await index.put(r)
    else if (op < 8) await index.remove(r.hash, provider)
    else if (op < 9) await index.remove(r.hash)
    else await index.removeProvider(provider)
  }
  const key = (r: FileRecord) => `${r.hash}/${r.provider.id}/${r.name}`
  const reopened = await opened(new FileIndex(path, options))
  t.deepEqual((await all(reopened)).map(key).sort(), (await all(index)).map(key).sort())
  t.is(await reopened.count(), await index.count())
})
