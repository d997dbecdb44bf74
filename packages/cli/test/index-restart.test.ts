import { spawn } from 'node:child_process'
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile } from '@peerkit/content'
import type { FileRecord } from '@peerkit/core'
import { LmdbIndex, parseLmdbIndexOptions } from '@peerkit/index-lmdb'
import test from 'ava'
import { ApiClient } from '../src/api-client.js'
import { BIN, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'

/** Files shared by the node that is killed: enough that registering them takes a while. */
const FILES = Number(process.env.PEERKIT_INDEX_RESTART_FILES ?? 800)

type SharedFileRecord = FileRecord & { path: string; mtimeMs: number }

/** The records of the named index in DATA/index, read with the node stopped. */
async function stored(data: string, name: string): Promise<FileRecord[]> {
  const index = new LmdbIndex(join(data, 'index'), name, parseLmdbIndexOptions({}))
  await index.open()
  const out: FileRecord[] = []
  try {
    for await (const r of index.records()) out.push(r)
  } finally {
    await index.close()
  }
  return out
}

/** The node's log line as it begins to share a folder (before the peer starts: it hashes and records them next). */
const SHARING = 'sharing path='

/**
 * Runs `peerkit node --data DATA --share FILES` and SIGKILLs it `delay` ms
 * after it logs that it begins to share the folder (it hashes and records the shares next).
 */
async function killWhileSharing(data: string, files: string, delay: number): Promise<void> {
  const args = nodeArgs('flooding', data, '--share', files, '--no-watch')
  args[args.indexOf('--log-level') + 1] = 'info'
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Bounded: a node that never logs that it shares is killed after 20 s (and the round counts as not mid-write).
  const bound = setTimeout(() => child.kill('SIGKILL'), 20_000)
  let log = ''
  child.stderr?.on('data', (d: Buffer) => {
    if (log.includes(SHARING)) return
    log += d.toString()
    if (log.includes(SHARING)) setTimeout(() => child.kill('SIGKILL'), delay)
  })
  await exited
  clearTimeout(bound)
}

test('a node SIGKILLed while it registers its shares restarts with an index that matches the files it serves', async (t) => {
  const dir = await tempDir(t, 'index-restart')
  const files = join(dir, 'files')
  await mkdir(files)
  for (let i = 0; i < FILES; i++)
    await writeFile(join(files, `song ${i} of the index test.txt`), `song ${i}\n`.repeat(1 + (i % 7)))

  // Kill mid-write: some of the shares are in the index, not all. The delay after start moves until that happens.
  let data = ''
  let recorded: FileRecord[] = []
  let delay = 150
  for (let attempt = 0; attempt < 8; attempt++) {
    data = join(dir, `data-${attempt}`)
    await mkdir(data)
    await killWhileSharing(data, files, delay)
    recorded = await stored(data, 'shares').catch(() => [])
    t.log(
      `attempt ${attempt}: killed ${delay} ms after it began sharing with ${recorded.length} of ${FILES} shares recorded`,
    )
    if (recorded.length > 2 && recorded.length < FILES) break
    delay = recorded.length >= FILES ? Math.floor(delay / 2) : delay * 2 + 50
  }
  t.true(
    recorded.length > 2 && recorded.length < FILES,
    'the node was killed while it was writing its shares',
  )

  // While it is down, one shared file goes and another changes.
  const fileRecords = (await stored(data, 'shared-files')) as SharedFileRecord[]
  const withFile = fileRecords.filter((f) => recorded.some((r) => r.hash === f.hash))
  const [deleted, changed] = withFile as [SharedFileRecord, SharedFileRecord]
  t.truthy(changed, 'two recorded shares have their files listed')
  await rm(deleted.path)
  await appendFile(changed.path, 'changed while the node was down\n')

  // Restarted without --share: what it advertises comes from the index, reconciled with the disk.
  const node = await startDaemon(nodeArgs('flooding', data, '--no-watch'))
  t.teardown(() => node.stop())
  const api = node.lines.get('api')?.[0] ?? ''
  const token = (await readFile(join(data, 'api.cookie'), 'utf8')).trim()
  const status = await new ApiClient(api, { token }).status()
  // A file listed whose record the kill cut off is served, so advertised again; a record without its file is not.
  const served = fileRecords.length - 2
  t.is(status.shares, served, 'every listed, unchanged file is advertised; the gone and changed ones are not')

  // Another node finds one of them and downloads it from the restarted node, verified.
  const keep = withFile[2] as SharedFileRecord
  const other = await startDaemon(
    nodeArgs(
      'flooding',
      join(dir, 'other'),
      '--no-watch',
      '--bootstrap',
      node.lines.get('listen')?.[0] ?? '',
    ),
  )
  t.teardown(() => other.stop())
  const otherApi = other.lines.get('api')?.[0] ?? ''
  const out = join(dir, 'downloaded.txt')
  const got = await runBin(
    ['get', keep.hash, '--api', otherApi, '--out', out, '--json', '--data', join(dir, 'other')],
    {
      timeout: 60_000,
    },
  )
  t.is(got.code, 0, got.stderr)
  t.deepEqual(await readFile(out), await readFile(keep.path))
  t.is(await other.stop(), 0)
  t.is(await node.stop(), 0)

  // The index after the restart: each share record has its file listed, on disk, with that very content.
  const shares = await stored(data, 'shares')
  const listed = new Map(((await stored(data, 'shared-files')) as SharedFileRecord[]).map((f) => [f.hash, f]))
  t.is(shares.length, served)
  for (const r of shares) {
    const f = listed.get(r.hash)
    if (!f) return t.fail(`share ${r.name} has no file listed`)
    t.is((await stat(f.path)).mtimeMs, f.mtimeMs)
    t.is((await hashFile(f.path)).hash, r.hash, `${f.path} still has the content it is advertised under`)
  }
  t.false(listed.has(deleted.hash) || shares.some((r) => r.hash === deleted.hash), 'the deleted file is gone')
  t.false(listed.has(changed.hash) || shares.some((r) => r.hash === changed.hash), 'the changed file is gone')
})
