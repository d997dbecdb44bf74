import 'reflect-metadata'
/**
 * Heap per simulated Chord peer, component by component, as the `scale`
 * benchmark builds them (oracle join, maintenance slowed to 60 s, the memory
 * transport without its handshake), with ratios against the figures measured
 * with this same benchmark before the memory work (`BEFORE`). A first, smaller
 * round warms the code up, so compiled code is not counted per peer. Run after
 * a build:
 *
 *   node --expose-gc packages/sim/dist/bench/memory.js [peers] [connections per peer]
 */
import { createPeer, type Peer, SeededRandom } from '@peerkit/core'
import { adoptConvergedRing, loadOverlay, SimNetwork, type SimPeer, seededIdentity } from '../src/index.js'
import { SIM_TRANSPORT } from '../src/sim-network.js'

type Component =
  | 'identity'
  | 'createPeer'
  | 'start'
  | 'adopt'
  | 'atRest'
  | 'openConnection'
  | 'closedConnection'

/** Bytes per peer (per connection for the last two), 1,000 peers and 4 connections each, before the memory work. */
const BEFORE: Record<Component, number> = {
  identity: 464,
  createPeer: 15_680,
  start: 2_910,
  adopt: 955,
  atRest: 20_010,
  openConnection: 3_823,
  closedConnection: 400,
}

const QUIET_CHORD = {
  stabilizeInterval: 60_000,
  fixFingersInterval: 60_000,
  checkPredecessorInterval: 60_000,
}

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) {
  console.error('run with node --expose-gc')
  process.exit(2)
}
/** Heap in use after full collections. */
function heap(): number {
  for (let i = 0; i < 4; i++) gc?.()
  return process.memoryUsage().heapUsed
}

/** Builds `nodes` chord peers step by step, then opens and closes `perPeer` connections from each. */
async function measure(nodes: number, perPeer: number): Promise<[Component, number][]> {
  const net = new SimNetwork({ overlay: 'chord', seed: 1, latency: 50, overlayOptions: QUIET_CHORD })
  const identityStream = new SeededRandom(2)
  const rows: [Component, number][] = []
  let mark = heap()
  const step = (label: Component, count: number) => {
    const now = heap()
    rows.push([label, (now - mark) / count])
    mark = now
  }

  const identities = Array.from({ length: nodes }, () => seededIdentity(identityStream))
  step('identity', nodes)

  const peers: Peer[] = []
  for (let i = 0; i < nodes; i++) {
    peers.push(
      await createPeer(
        {
          overlay: 'chord',
          transport: SIM_TRANSPORT,
          index: 'memory',
          transfer: 'default',
          listen: [`memory://p${i}`],
          bootstrap: [],
          options: { chord: QUIET_CHORD },
        },
        { container: net.container, identity: identities[i] },
      ),
    )
  }
  identities.length = 0 // each peer holds its own now
  step('createPeer', nodes)

  await net.clock.settle(Promise.all(peers.map((p) => p.start())))
  step('start', nodes)

  const sims = peers.map((peer, index) => ({
    peer,
    index,
    name: `p${index}`,
    alive: true,
    files: [],
    joinedAt: 0,
  }))
  adoptConvergedRing({ livePeers: (): readonly SimPeer[] => sims } as unknown as SimNetwork)
  await net.clock.advance(1000) // nothing is due yet with 60 s maintenance: this only settles the microtasks
  step('adopt', nodes)
  rows.push(['atRest', rows.reduce((a, [, b]) => a + b, 0)])

  // Connections: every peer dials `perPeer` others chosen at random, and both ends identify.
  const pick = new SeededRandom(3)
  const pairs: [number, number][] = []
  for (let i = 0; i < nodes; i++) {
    for (let k = 0; k < perPeer; k++) {
      let j = pick.int(nodes - 1)
      if (j >= i) j++
      pairs.push([i, j])
    }
  }
  mark = heap()
  const beforeConnections = mark
  const connects = pairs.map(([i, j]) =>
    (peers[i] as Peer).network.connect((peers[j] as Peer).network.self()).catch(() => undefined),
  )
  await net.clock.settle(Promise.all(connects))
  connects.length = 0 // the settled promises hold their Connection
  await net.clock.advance(2000)
  const open = peers.reduce((a, p) => a + p.network.peers().length, 0) / 2
  step('openConnection', open)

  await net.clock.settle(
    Promise.all(pairs.map(([i, j]) => (peers[i] as Peer).network.hangUp((peers[j] as Peer).id))),
  )
  await net.clock.advance(2000)
  // What a connection leaves behind once both ends closed (learned addresses, counters, maps made on first use).
  rows.push(['closedConnection', (heap() - beforeConnections) / open])
  await net.dispose()
  return rows
}

const nodes = Number(process.argv[2] ?? 1000)
const perPeer = Number(process.argv[3] ?? 4)
await loadOverlay('chord')
await measure(Math.min(200, nodes), perPeer) // warm-up: compiles the code paths
const rows = await measure(nodes, perPeer)
console.log(`heap per chord peer, ${nodes} peers, ${perPeer} connections opened (then closed) by each`)
console.log('component                   bytes    before   ratio')
for (const [label, bytes] of rows) {
  const unit = label.endsWith('Connection') ? 'connection' : 'peer'
  console.log(
    `${`${label} /${unit}`.padEnd(26)} ${bytes.toFixed(0).padStart(7)}  ${BEFORE[label].toFixed(0).padStart(8)}  ${(bytes / BEFORE[label]).toFixed(2).padStart(6)}`,
  )
}
