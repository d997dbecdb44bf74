import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Clock, type Index, RealClock } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import type { ExecutionContext, TestFn } from 'ava'
import { CRASH_BURST, stateAfter } from './index-crash-ops.js'
import { collectRecords, testHash, testPeerId, testRecord } from './index-suite.js'

/** How the persistence suite makes a persistent index. */
export interface PersistentIndexSetup {
  /** A fresh, empty place for one test's stores (a temporary folder); the setup removes it at teardown. */
  location(t: ExecutionContext): Promise<string>
  /** Makes the index called `name` kept at `location`, reading time from `components.clock`. */
  make(location: string, name: string, components: { clock: Clock }): Index | Promise<Index>
  /**
   * For the crash test: the path of a module whose default export is
   * `(location, name) => Index` on the real clock, run in a child process that
   * is killed with SIGKILL while it writes. Without it the crash test is skipped.
   */
  crashModule?: string
  /**
   * How many of the last acknowledged writes a crash may lose, as the index
   * documents (default 0: a write whose promise resolved survives a crash).
   */
  crashLoss?: number
  /** Acknowledged writes before the kill (default 400). */
  crashAfter?: number
  /**
   * Resolves once nothing the killed writer began can still change the store
   * at `location`: a database server may still run the statements the dead
   * client sent (its session ends when the server notices), so the checks
   * wait for that. Default: at once (the writer's process was the only writer).
   */
  crashSettled?(location: string): Promise<void>
}

const HP2 = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'
const LOTR = 'The.Lord.of.the.Rings.mkv'

/**
 * The persistence part of the Index compliance suite, for indexes with
 * `durable: true`: write, close, reopen, read; expiry across a restart; names
 * keep stores apart; a crash between writes loses at most what the index
 * documents, and never leaves a half-applied write.
 *
 * ```ts sketch
 * import test from 'ava'
 * import { indexPersistenceSuite } from '@peerkit/compliance'
 * indexPersistenceSuite(test, {
 *   location: async (t) => tempFolder(t),
 *   make: (location, name, { clock }) => new LmdbIndex({ path: location, name }, { clock }),
 *   crashModule: fileURLToPath(new URL('./helpers/crash-index.js', import.meta.url)),
 * })
 * ```
 */
export function indexPersistenceSuite(test: TestFn, setup: PersistentIndexSetup): void {
  async function opened(t: ExecutionContext, location: string, name: string, clock: Clock): Promise<Index> {
    const index = await setup.make(location, name, { clock })
    await index.open()
    t.teardown(() => index.close())
    return index
  }

  test('index persistence: write, close, reopen, read', async (t) => {
    const location = await setup.location(t)
    const clock = new TestClock(1_000_000)
    const first = await opened(t, location, 'shares', clock)
    t.true(first.durable)
    const signed = { ...testRecord(HP2, 'alice'), signature: 'c2ln', expires: 42 }
    await first.put(signed)
    await first.put(testRecord(HP2, 'bob'))
    await first.put(testRecord(LOTR, 'bob'))
    await first.put(testRecord('gone.bin', 'bob'))
    t.is(await first.remove(testHash('gone.bin')), 1)
    await first.close()

    const again = await opened(t, location, 'shares', clock)
    t.is(await again.count(), 3)
    t.deepEqual(
      (await again.get(testHash(HP2))).find((r) => r.provider.id === testPeerId('alice')),
      signed,
      'a record comes back as it was put, extra fields included',
    )
    t.deepEqual((await again.search({ keywords: ['harry', 'potter'] }))[0]?.providers.length, 2)
    t.deepEqual(await again.search({ keywords: ['gone'] }), [])
    t.is(await again.removeProvider(testPeerId('bob')), 2)
    await again.close()

    const third = await opened(t, location, 'shares', clock)
    t.deepEqual(
      (await collectRecords(third)).map((r) => r.provider.id),
      [testPeerId('alice')],
    )
  })

  test('index persistence: names keep stores apart; clear() is kept too', async (t) => {
    const location = await setup.location(t)
    const clock = new TestClock(1_000_000)
    const shares = await opened(t, location, 'shares', clock)
    const chord = await opened(t, location, 'chord', clock)
    await shares.put(testRecord(HP2, 'alice'))
    await chord.put(testRecord(LOTR, 'bob'))
    await chord.put(testRecord(HP2, 'bob'))
    t.is(await shares.count(), 1)
    await chord.clear()
    await shares.close()
    await chord.close()
    const shares2 = await opened(t, location, 'shares', clock)
    const chord2 = await opened(t, location, 'chord', clock)
    t.deepEqual(
      (await collectRecords(shares2)).map((r) => r.name),
      [HP2],
    )
    t.is(await chord2.count(), 0)
  })

  test('index persistence: expiry survives a restart; records that lapsed while closed are gone', async (t) => {
    const location = await setup.location(t)
    const clock = new TestClock(1_000_000)
    const first = await opened(t, location, 'directory', clock)
    const now = clock.now()
    await first.put(testRecord(HP2, 'alice'), { expiresAt: now + 1_000 })
    await first.put(testRecord(HP2, 'bob'), { expiresAt: now + 60_000 })
    await first.put(testRecord(LOTR, 'carol'))
    await first.close()

    await clock.advance(30_000) // down for 30 s
    const again = await opened(t, location, 'directory', clock)
    t.is(await again.count(), 2, "alice's registration lapsed while the index was closed")
    t.deepEqual(
      (await again.get(testHash(HP2))).map((r) => r.provider.id),
      [testPeerId('bob')],
    )
    await clock.advance(29_999)
    t.is(await again.count(), 2, "bob's is still there 1 ms before it lapses")
    await clock.advance(1)
    t.deepEqual(
      await again.search({ keywords: ['harry'] }),
      [],
      "bob's lapsed on time, as without the restart",
    )
    t.is((await again.search({ keywords: ['rings'] })).length, 1)
  })

  test('index persistence: a crash between writes loses at most what the index documents', async (t) => {
    if (setup.crashModule === undefined) {
      t.pass('no crashModule: the crash test is skipped')
      return
    }
    const location = await setup.location(t)
    const loss = setup.crashLoss ?? 0
    const acked = await writeUntilKilled(t, setup.crashModule, location, setup.crashAfter ?? 400)
    await setup.crashSettled?.(location)
    const index = await opened(t, location, 'crash', new RealClock())
    const records = await collectRecords(index)
    t.is(await index.count(), records.length, 'count() agrees with records()')
    const found = new Map(records.map((r) => [`${r.hash} ${r.provider.id}`, r]))
    // The store must hold the state after some prefix of the operations that includes every acknowledged one.
    let match = -1
    for (let n = Math.max(0, acked - loss); n <= acked + CRASH_BURST * 2 && match < 0; n++) {
      const want = stateAfter(n)
      if (want.size !== found.size) continue
      if ([...want].every(([k, r]) => JSON.stringify(found.get(k)) === JSON.stringify(r))) match = n
    }
    t.true(
      match >= 0,
      `the store after the crash (${found.size} records) is the state after no prefix of ${acked - loss}..${acked + CRASH_BURST * 2} operations`,
    )
    for (const r of records.slice(0, 50)) {
      t.true(
        (await index.get(r.hash)).some((x) => x.provider.id === r.provider.id),
        'each record is found by its hash',
      )
      t.true(
        (await index.search({ keywords: r.keywords })).some((h) => h.hash === r.hash),
        'and by its keywords',
      )
    }
    t.log(`killed after ${acked} acknowledged writes; the store holds the first ${match}`)
  })
}

/**
 * Runs the crash writer on `location` until it acknowledged `after` writes,
 * kills it with SIGKILL, and resolves to the highest K such that operations
 * 0..K-1 were all acknowledged.
 */
function writeUntilKilled(
  t: ExecutionContext,
  module: string,
  location: string,
  after: number,
): Promise<number> {
  const writer = fileURLToPath(new URL('./index-crash-writer.js', import.meta.url))
  const child = spawn(process.execPath, [writer, module, location, 'crash'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    const acks = new Set<number>()
    let buffered = ''
    let stderr = ''
    let killed = false
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`the crash writer acknowledged ${acks.size} of ${after} writes in 20 s; stderr: ${stderr}`),
      )
    }, 20_000)
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) if (line.startsWith('ack ')) acks.add(Number(line.slice(4)))
      if (!killed && acks.size >= after) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    // 'close', not 'exit': it comes once the child's output is read to its end. On 'exit' the acks still in
    // the pipe were not counted yet, and a loaded run (the kill lands late) saw 58 committed writes unacknowledged.
    child.on('close', (code, signal) => {
      clearTimeout(deadline)
      if (signal !== 'SIGKILL') {
        reject(new Error(`the crash writer exited by itself (${code ?? signal}); stderr: ${stderr}`))
        return
      }
      let n = 0
      while (acks.has(n)) n++
      resolve(n)
    })
  })
}
