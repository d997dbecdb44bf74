/**
 * The Overlay compliance suite: every overlay strategy runs it against itself.
 *
 * ```ts
 * // packages/overlay-<name>/test/compliance.test.ts
 * import test from 'ava'
 * import { createTestnet, overlaySuite } from '@peerkit/compliance'
 *
 * overlaySuite(test, async (t, n, clock) => {
 *   // Build n started peers joined into one overlay network on `clock`, e.g.
 *   // createTestnet(t, n, { overlay: 'gossip', clock }) over the memory transport.
 *   // Register teardown for anything else you start (a directory server …);
 *   // the suite also stops every node it is given.
 *   return peers // Peer[] from @peerkit/core satisfies OverlaySuiteNode
 * }, { searchTimeout: 2000 })
 * ```
 *
 * The setup contract:
 * - `setup(t, n, clock)` resolves to at least `n` nodes (n ≤ 4), started and joined.
 * - Every node runs on `clock` (register it as core's `CLOCK` in the nodes'
 *   parent container; `createTestnet` takes it as `clock`): a `RunningClock`
 *   the suite made for this test, which jumps to the next timer whenever the
 *   process has nothing else to do. So the nodes must do no real I/O (the
 *   memory transport), and the suite's waits cost virtual time, not real
 *   time: a loaded machine makes a test slower, never wrong.
 * - A record published by one node becomes findable by every other node
 *   within `settleTimeout` virtual milliseconds (the suite asks again every
 *   `POLL_INTERVAL` virtual ms; it never sleeps blindly).
 *
 * What it checks: publish then find by keyword and by content hash (from
 * another node, the publisher among the providers at its current address),
 * by a prefix, a substring and a part of a CJK name (core's `termMatches`),
 * unpublish, providers(hash) with every provider, `query.limit`, results
 * stream (a consumer that stops at the first hit does not wait for the
 * timeout), a timeout ends the search normally, an abort ends it with
 * `AbortError`, `stats()` counts messages, `stop()` is idempotent and a
 * stopped overlay's search fails with `NotStartedError` while the others
 * go on working.
 */
import { createHash } from 'node:crypto'
import type { ContentHash, FileRecord, Hit, Overlay, PeerId, PeerRef, SearchOptions } from '@peerkit/core'
import { keywords } from '@peerkit/core'
import { RunningClock } from '@peerkit/core/testing'
import type { ExecutionContext, TestFn } from 'ava'

/** What the suite needs of a node; core's `Peer` has all of it. */
export interface OverlaySuiteNode {
  readonly id: PeerId
  readonly overlay: Overlay
  /** The addresses the node listens on. */
  addresses(): string[]
  stop(): Promise<void>
}

/**
 * Builds `n` started, joined nodes for one test, every one on `clock` (and
 * registers teardown for whatever else it starts).
 */
export type OverlaySuiteSetup = (
  t: ExecutionContext,
  n: number,
  clock: RunningClock,
) => Promise<OverlaySuiteNode[]>

export interface OverlaySuiteOptions {
  /** Virtual milliseconds each search may take (its `timeout`). @default 2000 */
  searchTimeout?: number
  /** Virtual milliseconds a publish or unpublish may take to be visible to every node. @default 10000 */
  settleTimeout?: number
  /** Prefix of the test titles. @default 'overlay' */
  title?: string
  /**
   * Timers that what `setup` starts besides the nodes keeps set while it runs
   * (central's directory server sweeps its registrations: 1); the nodes' own
   * stop cannot end them. @default 0
   */
  serviceTimers?: number
}

/** Virtual milliseconds a stopped node's last one-shot timers may take to run out. */
const LINGER = 3_600_000

/** Virtual milliseconds between two asks while waiting for a publish to spread. */
const POLL_INTERVAL = 50

/** A record of `name` provided by `node`; the content hash is derived from `content` (default: the name). */
function recordOf(node: OverlaySuiteNode, name: string, content = name): FileRecord {
  return {
    hash: createHash('sha256').update(`content:${content}`).digest('hex'),
    name,
    size: 4096 + name.length,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: node.id, addresses: node.addresses() },
  }
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of source) out.push(v)
  return out
}

/** Hits by hash, providers merged (an overlay may yield a hash again with more providers). */
function merge(hits: Hit[]): Map<ContentHash, Hit> {
  const out = new Map<ContentHash, Hit>()
  for (const h of hits) {
    const seen = out.get(h.hash)
    if (!seen) out.set(h.hash, { ...h, providers: [...h.providers] })
    else for (const p of h.providers) if (!seen.providers.some((q) => q.id === p.id)) seen.providers.push(p)
  }
  return out
}

/**
 * Asks `probe` until it returns true, every `POLL_INTERVAL` virtual ms for at
 * most `ms` virtual ms; returns the last answer (the caller asserts).
 */
async function eventually(clock: RunningClock, ms: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = clock.now() + ms
  for (;;) {
    let ok = false
    try {
      ok = await probe()
    } catch {
      ok = false // a probe that throws has not seen it yet; the deadline bounds the wait and the caller asserts
    }
    if (ok || clock.now() >= deadline) return ok
    await clock.sleep(POLL_INTERVAL)
  }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}

/** Runs the Overlay compliance tests with nodes from `setup`. */
export function overlaySuite(
  test: TestFn,
  setup: OverlaySuiteSetup,
  options: OverlaySuiteOptions = {},
): void {
  const searchTimeout = options.searchTimeout ?? 2000
  const settleTimeout = options.settleTimeout ?? 10_000
  const title = options.title ?? 'overlay'
  const serviceTimers = options.serviceTimers ?? 0
  const opts = (extra: SearchOptions = {}): SearchOptions => ({ timeout: searchTimeout, ...extra })

  /** This test's clock: stopped last (ava runs teardowns last-registered first), after every node. */
  const clocks = new WeakMap<ExecutionContext, RunningClock>()
  const clockOf = (t: ExecutionContext): RunningClock => {
    const clock = clocks.get(t)
    if (!clock) throw new Error('the test has no clock before start()')
    return clock
  }
  const start = async (t: ExecutionContext, n: number): Promise<OverlaySuiteNode[]> => {
    // At the wall clock's now, so timestamps a node compares with Date.now() still fit.
    const clock = new RunningClock(Date.now())
    clocks.set(t, clock)
    t.teardown(() => clock.stop())
    const nodes = await setup(t, n, clock)
    t.teardown(async () => {
      await Promise.allSettled(nodes.map((node) => node.stop()))
    })
    if (nodes.length < n) throw new Error(`setup returned ${nodes.length} nodes, the test needs ${n}`)
    return nodes
  }

  const find = async (node: OverlaySuiteNode, query: Parameters<Overlay['search']>[0]) =>
    merge(await collect(node.overlay.search(query, opts())))

  test(`${title}: publish, then another node finds it by keyword and by hash`, async (t) => {
    const [alice, , carol] = (await start(t, 3)) as [OverlaySuiteNode, OverlaySuiteNode, OverlaySuiteNode]
    const record = recordOf(alice, 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv')
    await alice.overlay.publish([record])
    let hit: Hit | undefined
    const found = await eventually(clockOf(t), settleTimeout, async () => {
      hit = (await find(carol, { keywords: keywords('HARRY  potter!') })).get(record.hash)
      return hit?.providers.some((p) => p.id === alice.id) ?? false
    })
    t.true(found, 'the keyword search finds the record')
    t.is(hit?.name, record.name)
    t.is(hit?.size, record.size)
    t.is(hit?.chunkSize, record.chunkSize)
    const provider = hit?.providers.find((p) => p.id === alice.id)
    t.true(
      alice.addresses().some((a) => provider?.addresses.includes(a)),
      'the provider comes with an address it listens on',
    )
    const byHash = (await find(carol, { hash: record.hash })).get(record.hash)
    t.truthy(byHash, 'the hash search finds the record')
    t.true(byHash?.providers.some((p) => p.id === alice.id))
    const none = await find(carol, { keywords: ['harry', 'potter', 'nosuchword'] })
    t.is(none.size, 0, 'every keyword must match')
  })

  test(`${title}: a part of a name finds it: a prefix, a substring, a part of a CJK name`, async (t) => {
    const [alice, , carol] = (await start(t, 3)) as [OverlaySuiteNode, OverlaySuiteNode, OverlaySuiteNode]
    const movie = recordOf(alice, 'Movie.Night.2024.mkv')
    const spirited = recordOf(alice, '千と千尋の神隠し.mkv')
    await alice.overlay.publish([movie, spirited])
    const finds = async (terms: string[], record: FileRecord) =>
      (await find(carol, { keywords: terms })).get(record.hash)?.providers.some((p) => p.id === alice.id) ??
      false
    t.true(
      await eventually(clockOf(t), settleTimeout, () => finds(['movi'], movie)),
      '"movi" finds Movie.Night (a prefix)',
    )
    t.true(await finds(['ight'], movie), '"ight" finds it (a substring of 3 or more)')
    t.true(await finds(['mov', 'nig'], movie), 'every term a prefix')
    t.true(
      await eventually(clockOf(t), settleTimeout, () => finds(['神隠'], spirited)),
      'a Japanese name by two characters inside it',
    )
    t.true(await finds(['千尋'], spirited))
    t.is((await find(carol, { keywords: ['movi', 'zzz'] })).size, 0, 'every term must match')
    t.false((await find(carol, { keywords: ['ovi'] })).has(spirited.hash))
  })

  test(`${title}: unpublish makes a record unfindable`, async (t) => {
    const [alice, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    const keep = recordOf(alice, 'unpublish keep.txt')
    const drop = recordOf(alice, 'unpublish drop.txt')
    await alice.overlay.publish([keep, drop])
    t.true(
      await eventually(
        clockOf(t),
        settleTimeout,
        async () => (await find(bob, { keywords: ['unpublish'] })).size === 2,
      ),
      'both records are found first',
    )
    await alice.overlay.unpublish([drop.hash])
    t.true(
      await eventually(clockOf(t), settleTimeout, async () => {
        const hits = await find(bob, { keywords: ['unpublish'] })
        const stale = hits.get(drop.hash)?.providers.some((p) => p.id === alice.id) ?? false
        return !stale && hits.has(keep.hash)
      }),
      'the unpublished record is gone and the other stays',
    )
  })

  test(`${title}: providers(hash) yields every node that published the content`, async (t) => {
    const [alice, bob, carol] = (await start(t, 3)) as [OverlaySuiteNode, OverlaySuiteNode, OverlaySuiteNode]
    await alice.overlay.publish([recordOf(alice, 'shared-a.iso', 'shared content')])
    await bob.overlay.publish([recordOf(bob, 'shared-b.iso', 'shared content')])
    const hash = recordOf(alice, 'x', 'shared content').hash
    let ids: string[] = []
    const ok = await eventually(clockOf(t), settleTimeout, async () => {
      const refs: PeerRef[] = await collect(carol.overlay.providers(hash, opts()))
      ids = refs.map((r) => r.id)
      return ids.includes(alice.id) && ids.includes(bob.id)
    })
    t.true(ok, `providers found: ${ids.length}`)
    t.is(new Set(ids).size, ids.length, 'each provider once')
    const hit = (await find(carol, { hash })).get(hash)
    t.deepEqual(
      hit?.providers
        .map((p) => p.id)
        .filter((id) => id === alice.id || id === bob.id)
        .sort(),
      [alice.id, bob.id].sort(),
    )
  })

  test(`${title}: a search yields at most query.limit distinct files`, async (t) => {
    const [alice, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    await alice.overlay.publish(
      Array.from({ length: 12 }, (_, i) => recordOf(alice, `limited song ${i}.mp3`)),
    )
    t.true(
      await eventually(
        clockOf(t),
        settleTimeout,
        async () => (await find(bob, { keywords: ['limited', 'song'] })).size === 12,
      ),
      'all 12 are found without a limit',
    )
    const limited = await collect(bob.overlay.search({ keywords: ['limited', 'song'], limit: 5 }, opts()))
    const distinct = new Set(limited.map((h) => h.hash))
    t.true(distinct.size >= 1 && distinct.size <= 5, `got ${distinct.size} distinct hashes`)
  })

  test(`${title}: results stream: the first hit arrives before the search is over`, async (t) => {
    const [alice, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    await alice.overlay.publish([recordOf(alice, 'streaming first.bin')])
    t.true(
      await eventually(
        clockOf(t),
        settleTimeout,
        async () => (await find(bob, { keywords: ['streaming'] })).size === 1,
      ),
    )
    const longTimeout = Math.max(10_000, searchTimeout * 5)
    const clock = clockOf(t)
    const began = clock.now()
    let first: Hit | undefined
    for await (const hit of bob.overlay.search({ keywords: ['streaming'] }, { timeout: longTimeout })) {
      first = hit
      break
    }
    const elapsed = clock.now() - began
    t.is(first?.name, 'streaming first.bin')
    t.true(
      elapsed < longTimeout / 2,
      `the first hit took ${elapsed} virtual ms of a ${longTimeout} ms search`,
    )
  })

  test(`${title}: a timeout ends the search normally`, async (t) => {
    const [, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    const clock = clockOf(t)
    const began = clock.now()
    const hits = await collect(
      bob.overlay.search({ keywords: ['nothing', 'matches', 'this'] }, { timeout: 300 }),
    )
    const elapsed = clock.now() - began
    t.deepEqual(hits, [])
    t.true(elapsed <= 300 + POLL_INTERVAL, `it ends at its timeout (after ${elapsed} virtual ms of 300)`)
  })

  test(`${title}: an abort ends the search with AbortError`, async (t) => {
    const [alice, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    await alice.overlay.publish([recordOf(alice, 'abortable.bin')])
    const already = new AbortController()
    already.abort()
    await t.throwsAsync(
      collect(bob.overlay.search({ keywords: ['abortable'] }, opts({ signal: already.signal }))),
      {
        name: 'AbortError',
      },
    )
    const controller = new AbortController()
    const iterator = bob.overlay
      .search({ keywords: ['abortable'] }, opts({ signal: controller.signal }))
      [Symbol.asyncIterator]()
    const next = iterator.next()
    controller.abort()
    await t.throwsAsync(next, { name: 'AbortError' })
    const providers = new AbortController()
    providers.abort()
    await t.throwsAsync(
      collect(
        bob.overlay.providers(recordOf(alice, 'abortable.bin').hash, opts({ signal: providers.signal })),
      ),
      { name: 'AbortError' },
    )
  })

  test(`${title}: stats() counts the messages a search sends and receives`, async (t) => {
    const [alice, bob] = (await start(t, 2)) as [OverlaySuiteNode, OverlaySuiteNode]
    await alice.overlay.publish([recordOf(alice, 'counted.bin')])
    t.true(
      await eventually(
        clockOf(t),
        settleTimeout,
        async () => (await find(bob, { keywords: ['counted'] })).size === 1,
      ),
    )
    const before = bob.overlay.stats()
    await collect(bob.overlay.search({ keywords: ['counted'] }, opts()))
    const after = bob.overlay.stats()
    t.true(total(after.sent) > total(before.sent), 'the searcher sent messages')
    t.true(total(after.received) > total(before.received), 'and received answers')
    for (const counts of [after.sent, after.received]) {
      for (const [kind, n] of Object.entries(counts)) {
        t.true(kind.length > 0 && Number.isInteger(n) && n >= 0, `count of ${kind}`)
      }
    }
    t.is(typeof bob.overlay.role(), 'string')
    t.true(Array.isArray(bob.overlay.neighbors()))
  })

  test(`${title}: stopped nodes leave no timer behind, so a process whose peers stopped can exit`, async (t) => {
    const nodes = await start(t, 4)
    const clock = clockOf(t)
    const [first, last] = [nodes[0] as OverlaySuiteNode, nodes[3] as OverlaySuiteNode]
    await first.overlay.publish([recordOf(first, 'last-light.txt')])
    t.true(
      await eventually(
        clock,
        settleTimeout,
        async () => (await find(last, { keywords: ['light'] })).size === 1,
      ),
    )
    // One by one, each while the others go on with their periodic work (a stop that races a
    // maintenance round must not leave that round to set its next timer).
    for (const node of nodes) {
      await clock.sleep(997)
      await node.stop()
    }
    // Timers that fire once (a drain, a request's timeout) run out; one that sets itself again does not.
    const idle = await clock.until(LINGER, () => clock.pending <= serviceTimers, 10_000)
    t.true(
      idle,
      `${clock.pending - serviceTimers} timer(s) still set ${LINGER / 60_000} virtual minutes after every node stopped`,
    )
  })

  test(`${title}: stop() is idempotent; a stopped overlay refuses to search; the rest go on`, async (t) => {
    const [alice, bob, carol] = (await start(t, 3)) as [OverlaySuiteNode, OverlaySuiteNode, OverlaySuiteNode]
    const record = recordOf(alice, 'survivor.txt')
    await alice.overlay.publish([record])
    t.true(
      await eventually(
        clockOf(t),
        settleTimeout,
        async () => (await find(carol, { keywords: ['survivor'] })).size === 1,
      ),
    )
    await bob.overlay.stop()
    await bob.overlay.stop()
    await t.throwsAsync(collect(bob.overlay.search({ keywords: ['survivor'] }, opts())), {
      name: 'NotStartedError',
    })
    await bob.stop()
    t.true(
      await eventually(clockOf(t), settleTimeout, async () =>
        (await find(carol, { keywords: ['survivor'] })).has(record.hash),
      ),
      'the others still find what is published',
    )
  })
}
