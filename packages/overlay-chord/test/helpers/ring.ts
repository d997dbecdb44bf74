import { createHash } from 'node:crypto'
import { TestClock } from '@peerkit/compliance'
import {
  buildPeerContainer,
  CLOCK,
  type ContentHash,
  type FileRecord,
  Identity,
  keywords,
  Network,
  OVERLAY,
  type PeerRef,
  type SignedFileRecord,
  signRecord,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import { type DependencyContainer, container as root } from 'tsyringe'
import {
  type ChordOptions,
  ChordOverlay,
  chordOverlay,
  fingersFromRing,
  predecessorFromRing,
  solvesPuzzle,
  sortById,
  successorIn,
  successorsFromRing,
} from '../../src/index.js'

/** The id puzzle's difficulty in tests (unless a test sets its own): 16 key generations a node. */
export const TEST_DIFFICULTY = 4

/**
 * A fresh identity that solves the puzzle at `difficulty`, found by generating
 * keys until one does (about 2^difficulty fast key generations): ten times
 * cheaper than `solvePuzzle`'s seeded derivation, which a test node does not
 * need (test/identity.test.ts covers it).
 */
export function solvedIdentity(difficulty = TEST_DIFFICULTY): Identity {
  for (;;) {
    const identity = Identity.generate()
    if (solvesPuzzle(identity.peerId, difficulty)) return identity
  }
}

/** Short intervals so a test ring converges in a second or two, without saturating a slow 2-core machine. */
export const FAST: ChordOptions = {
  idDifficulty: TEST_DIFFICULTY,
  stabilizeInterval: 50,
  fixFingersInterval: 40,
  checkPredecessorInterval: 100,
  rpcTimeout: 1000,
  refreshInterval: 5000,
  recordTtl: 15_000,
}

/** Milliseconds a test waits for a ring to converge (generous: CI machines are slow and shared). */
export const SETTLE = 20_000

/** Gentler intervals for rings of 30 TCP peers (each request is encrypted; CI machines are shared). */
export const TCP_RING: ChordOptions = {
  ...FAST,
  stabilizeInterval: 250,
  fixFingersInterval: 250,
  checkPredecessorInterval: 500,
  rpcTimeout: 3000,
}

export interface TestNode {
  network: Network
  overlay: ChordOverlay
  container: DependencyContainer
  /** The overlay leaves voluntarily, then the network stops. */
  stop(): Promise<void>
  /** A crash: the network goes away at once, without a word to anyone. */
  kill(): Promise<void>
  alive: boolean
  /** The virtual clock the node runs on (its parent's `CLOCK`), when it is a TestClock. */
  clock?: TestClock
  /** The parent container it was started in (a newcomer joins in the same one). */
  parent?: DependencyContainer
}

/** A parent container for one test's nodes: its own memory hub and a virtual clock. */
export function virtualParent(): { clock: TestClock; parent: DependencyContainer } {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  return { clock, parent }
}

/** The virtual clock the nodes run on (undefined on the real clock). */
export function clockOf(nodes: readonly TestNode[]): TestClock | undefined {
  return nodes[0]?.clock
}

export interface NodeOptions {
  /** A parent container (a shared MemoryNetwork hub, a clock …). */
  parent?: DependencyContainer
  transport: 'memory' | 'tcp'
  listen: string[]
  bootstrap?: string[]
  chord?: ChordOptions
  seed?: number
  identity?: Identity
  /** `network.maxConnections` (the library's default otherwise). */
  maxConnections?: number
}

/** The container of one node: what createPeer wires, without a Transfer. */
export function nodeContainer(o: NodeOptions): DependencyContainer {
  return buildPeerContainer(
    {
      overlay: 'chord',
      transport: o.transport,
      listen: o.listen,
      bootstrap: o.bootstrap ?? [],
      seed: o.seed ?? 1,
      // A short close timeout: a crashed test peer need not wait for a graceful TCP close.
      options: {
        chord: chordOptions(o.chord),
        ...(o.transport === 'tcp' ? { tcp: { closeTimeout: 200 } } : {}),
      },
      network: {
        dialTimeout: 2000,
        requestTimeout: 2000,
        ...(o.maxConnections === undefined ? {} : { maxConnections: o.maxConnections }),
      },
    },
    {
      container: o.parent ?? root,
      identity: o.identity ?? solvedIdentity(chordOptions(o.chord).idDifficulty ?? TEST_DIFFICULTY),
      components: ['transport', 'index'],
    },
  )
}

let rawNames = 0

/**
 * A peer that speaks chord by hand (no overlay): the attacker of the attack
 * tests. Its identity solves the test puzzle unless one is given.
 */
export async function rawPeer(
  t: ExecutionContext,
  o: { identity?: Identity; parent?: DependencyContainer } = {},
): Promise<{ network: Network; identity: Identity }> {
  const identity = o.identity ?? solvedIdentity()
  const c = nodeContainer({
    transport: 'memory',
    listen: [`memory://chord-raw-${process.pid}-${rawNames++}`],
    identity,
    parent: o.parent,
  })
  const network = c.resolve(Network)
  t.teardown(async () => {
    await network.stop()
    await c.dispose()
  })
  await network.start()
  return { network, identity }
}

/** Starts one chord node; it is stopped at the test's teardown. */
export async function startNode(t: ExecutionContext | undefined, o: NodeOptions): Promise<TestNode> {
  const c = nodeContainer(o)
  chordOverlay(chordOptions(o.chord))(c)
  const network = c.resolve(Network)
  const overlay = c.resolve(OVERLAY) as ChordOverlay
  const clock = c.resolve(CLOCK)
  const virtual = clock instanceof TestClock ? clock : undefined
  let disposed = false
  const node: TestNode = {
    network,
    overlay,
    container: c,
    alive: true,
    clock: virtual,
    parent: o.parent,
    async stop() {
      if (disposed) return
      disposed = true
      node.alive = false
      // on virtual time, leaving (which may wait on a crashed neighbour's timeout) is driven to its end
      const leaving = overlay.stop()
      await (virtual ? virtual.settle(leaving, 600_000) : leaving)
      await shutdown(network)
      await c.dispose()
    },
    async kill() {
      node.alive = false
      await shutdown(network)
    },
  }
  t?.teardown(() => node.stop())
  await network.start()
  await overlay.start()
  return node
}

/**
 * Stops a Network: hangs up every connection first, and waits at most 3 s.
 * (transport-tcp's listener close waits for open inbound connections, and
 * Network.stop closes listeners before connections: a ring of peers stopping
 * together would wait on each other.)
 */
async function shutdown(network: Network): Promise<void> {
  await Promise.allSettled(network.peers().map((p) => network.hangUp(p.id)))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([network.stop(), new Promise((r) => (timer = setTimeout(r, 3000)))])
  clearTimeout(timer)
}

let memoryNames = 0

/**
 * Starts `n` nodes, each joining through the first; after the first, up to
 * `parallel` join at once (Chord's stabilisation sorts concurrent joins out).
 */
export async function startRing(
  t: ExecutionContext | undefined,
  n: number,
  o: {
    transport?: 'memory' | 'tcp'
    chord?: ChordOptions
    parent?: DependencyContainer
    parallel?: number
    /** On its own memory hub and a virtual clock (`clockOf(nodes)` drives it). */
    virtual?: boolean
    /** Every node's `network.maxConnections`. */
    maxConnections?: number
  } = {},
): Promise<TestNode[]> {
  const transport = o.transport ?? 'memory'
  // virtual: the ring runs on its own memory hub and virtual clock
  if (o.virtual && !o.parent) o = { ...o, parent: virtualParent().parent }
  const listen = () =>
    transport === 'tcp' ? 'tcp://127.0.0.1:0' : `memory://chord-${process.pid}-${memoryNames++}`
  const first = await startNode(t, {
    transport,
    listen: [listen()],
    chord: o.chord,
    parent: o.parent,
    seed: 1,
    maxConnections: o.maxConnections,
  })
  const nodes = [first]
  const bootstrap = first.network.addresses()
  const parallel = o.parallel ?? 1
  for (let i = 1; i < n; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - i) }, (_, k) =>
      startNode(t, {
        transport,
        listen: [listen()],
        bootstrap,
        chord: o.chord,
        parent: o.parent,
        seed: i + k + 1,
        maxConnections: o.maxConnections,
      }),
    )
    nodes.push(...(await Promise.all(batch)))
  }
  return nodes
}

/** The live nodes sorted by ring id. */
export function sorted(nodes: readonly TestNode[]) {
  return sortById(nodes.filter((n) => n.alive).map((n) => ({ id: n.overlay.routing.id, node: n })))
}

/** True when every live node's successor and predecessor are the right ones. */
export function ringIsCorrect(nodes: readonly TestNode[]): boolean {
  const ring = sorted(nodes)
  return ring.every(({ id, node }, i) => {
    const next = ring[(i + 1) % ring.length]?.id
    const prev = predecessorFromRing(id, ring)?.id
    const succ = node.overlay.routing.successors[0]?.id
    return (
      (ring.length === 1 ? succ === undefined : succ === next) &&
      node.overlay.routing.predecessor?.id === prev
    )
  })
}

/** True when every live node's finger table matches global knowledge. */
export function fingersAreCorrect(nodes: readonly TestNode[]): boolean {
  const ring = sorted(nodes)
  return ring.every(({ id, node }) => {
    const table = node.overlay.routing.fingers
    for (let i = 0; i < table.length; i++) {
      const want = successorIn(ring, table.start(i)).id
      const have = table.get(i)?.id ?? id // an empty finger means "this node itself"
      if (want !== have) return false
    }
    return true
  })
}

/** The live node responsible for `key`, from global knowledge. */
export function ownerOf(nodes: readonly TestNode[], key: bigint): TestNode {
  return successorIn(sorted(nodes), key).node
}

/**
 * Waits until `check` holds; fails after `ms`. On a virtual `clock` it drives
 * the clock (`ms` virtual milliseconds, costing only the work done); without
 * one (real sockets) it polls every 20 ms of real time.
 */
export async function until(
  check: () => boolean,
  ms: number,
  what: string,
  clock?: TestClock,
): Promise<void> {
  if (clock) {
    await clock.until(check, ms, what)
    return
  }
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export function hashOf(name: string): ContentHash {
  return createHash('sha256').update(name).digest('hex')
}

/** The options a test node runs with: the test puzzle difficulty unless `chord` sets one. */
export function chordOptions(chord: ChordOptions = {}): ChordOptions {
  return { idDifficulty: TEST_DIFFICULTY, ...chord }
}

/** A record of `identity`'s, signed, valid until `expires`. */
export function signedFor(
  identity: Identity,
  provider: PeerRef,
  name: string,
  expires: number,
): SignedFileRecord {
  return signRecord(identity, recordFor(provider, name), expires)
}

/** A record of a file of `provider`, with a content hash derived from its name. */
export function recordFor(provider: PeerRef, name: string): FileRecord {
  return {
    hash: hashOf(name),
    name,
    size: name.length * 1000,
    chunkSize: 65536,
    keywords: keywords(name),
    provider,
  }
}

/** Maintenance every hour: no stabilize, fix_fingers or check_predecessor round runs during a test. */
export const FROZEN: ChordOptions = {
  stabilizeInterval: 3_600_000,
  fixFingersInterval: 3_600_000,
  checkPredecessorInterval: 3_600_000,
}

/** Gives every node the state of the converged ring they form (global knowledge): predecessor, `r` successors, fingers. */
export function adoptConverged(nodes: readonly TestNode[], r = 8): void {
  const first = nodes[0]
  if (!first) return
  const ring = first.overlay.ring
  const refs = sortById(nodes.map((n) => ({ id: n.overlay.routing.id, ref: n.network.self() })))
  for (const n of nodes) {
    const id = n.overlay.routing.id
    const table = fingersFromRing(ring, id, refs)
    n.overlay.routing.adopt({
      predecessor: predecessorFromRing(id, refs),
      successors: successorsFromRing(id, refs, r),
      fingers: Array.from({ length: ring.bits }, (_, i) => table.get(i)),
    })
  }
}

/**
 * A frozen ring of 16 nodes (4 successors, replication 3) on a virtual clock,
 * converged from global knowledge and settled, and its fourth node as the
 * provider that publishes (the publish tests' set-up).
 */
export async function publishingRing(t: ExecutionContext) {
  const { clock, parent } = virtualParent()
  const chord = { ...FROZEN, successors: 4, replication: 3 }
  const nodes = await startRing(t, 16, { chord, parent })
  adoptConverged(nodes, chord.successors)
  await clock.advance(10_000) // the joins' finger fills are over
  return { clock, chord, nodes, order: sorted(nodes), provider: nodes[3] as TestNode }
}

/** An unsigned-looking record (a fixed fake signature) for tests that never check one: `name` gives its keywords. */
export function fakeSignedRecord(name: string, hash: string): SignedFileRecord {
  return {
    hash,
    name,
    size: 1,
    chunkSize: 1024,
    keywords: keywords(name),
    provider: { id: 'p', addresses: [] },
    expires: 1,
    signature: 's'.repeat(86),
  }
}
