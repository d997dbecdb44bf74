// Supernode diagnostic (docs/benchmarks/sim.md, "Why supernode's success falls with size").
// Run from anywhere after `npm run build`:
//   node docs/benchmarks/supernode-diag.mjs 5000 300                      as the package is
//   PATCH=1 node docs/benchmarks/supernode-diag.mjs 5000 300              fix 1 (a full supernode drops a random link for a newcomer)
//   PATCH=1 PATCH2=1 node docs/benchmarks/supernode-diag.mjs 5000 300     fixes 1 and 2 (a move from the supernode being attached to undoes the attach)
// It builds the network as runSimulation does (seed 1), prints the supernode link graph (links per supernode,
// supernodes within 1 and 2 hops, age order of the links), checks every record is in its supernode's directory,
// then runs the queries with counters wrapped around the hub's search/onQuery/gone and the leaf's onHit/onDone,
// and prints each failed query with where its holders' supernodes stood. It reads private fields: a diagnostic, not an API.
const ROOT = new URL('../../', import.meta.url).pathname
await import(ROOT + 'node_modules/reflect-metadata/Reflect.js')
const D = ROOT + 'packages/sim/dist/src/'
const { SimNetwork, loadOverlay, exponential, parseSimulationOptions } = await import(D + 'index.js')
const { Catalog } = await import(D + 'workload.js')
const { runQuery } = await import(D + 'queries.js')
const [nodes, queries, extra] = process.argv.slice(2)
const opts = parseSimulationOptions({ overlay: 'supernode', nodes: +nodes, queries: +queries, seed: 1, ...(extra ? JSON.parse(extra) : {}) })
await loadOverlay('supernode')
const net = new SimNetwork({ overlay: 'supernode', seed: 1, latency: opts.latency, overlayOptions: opts.overlayOptions, maxConnections: opts.maxConnections })
const { clock, random } = net
const catalog = new Catalog(random, opts.files, opts.zipf)
const shares = Array.from({ length: opts.nodes }, () => [])
for (const file of catalog.files) { const h = new Set(); while (h.size < opts.replicas) h.add(random.int(opts.nodes)); for (const x of h) shares[x].push(file.rank) }
if (process.env.PATCH) {
  const { SupernodeHub } = await import(ROOT + 'packages/overlay-supernode/dist/src/supernode-hub.js')
  const origLink = SupernodeHub.prototype.link
  SupernodeHub.prototype.link = function (from, leaves) {
    const table = this.ctx.supernodes
    if (!this.leaves.has(from.id) && !table.has(from.id) && table.full) {
      // make room: drop a random link (it stays a candidate and refills when below supernodeLinks)
      const ids = table.ids()
      const victim = ids[this.ctx.random.int(ids.length)]
      void this.ctx.send(victim, { kind: 'bye', reason: 'rewired' }).catch(() => {})
      this.unlink(victim)
    }
    return origLink.call(this, from, leaves)
  }
  console.error('patched: a full supernode makes room for a new link')
}
if (process.env.PATCH2) {
  const { LeafAttachment } = await import(ROOT + 'packages/overlay-supernode/dist/src/leaf-attachment.js')
  const P = LeafAttachment.prototype
  const origAttachTo = P.attachTo
  P.attachTo = async function (ref, failed) {
    this._attaching = ref.id
    this._moved = false
    const ok = await origAttachTo.call(this, ref, failed)
    this._attaching = undefined
    if (ok && this._moved) {
      globalThis.racesCaught = (globalThis.racesCaught ?? 0) + 1
      void this.detach().then(() => this.ensure())
    }
    return ok
  }
  const origMove = P.onMove
  P.onMove = function (from, to) {
    if (this.attached === undefined && from === this._attaching) this._moved = true
    return origMove.call(this, from, to)
  }
  console.error('patched: a move from the supernode being attached to undoes the attach')
}
const t0 = Date.now()
await clock.settle(net.addPeer(shares[0]))
const joins = []; let at = 0
for (let i = 1; i < opts.nodes; i++) { at += exponential(random, opts.joinInterval); const f = shares[i]; clock.setTimeout(() => joins.push(net.addPeer(f)), at) }
await clock.run({ until: () => joins.length === opts.nodes - 1 })
await clock.settle(Promise.all(joins))
await clock.advance(opts.warmup)
const live = net.livePeers().slice()
await clock.settle(Promise.all(live.map((p) => net.publish(p, p.files.map((r) => catalog.record(catalog.files[r], p.peer.network.self()))).catch(() => {}))))
await clock.advance(opts.settle)
console.error('built', Date.now() - t0, 'ms')
var qStart = Infinity
const anyHub = net.livePeers().map((p) => p.peer.overlay.hub).find(Boolean)
const HubProto = Object.getPrototypeOf(anyHub)
const LeafProto = Object.getPrototypeOf(net.livePeers().map((p) => p.peer.overlay.leaf).find(Boolean))
const ins = { reach1: 0, reach2: 0, unknownSender: 0, leafHitDropped: 0, leafDoneDropped: 0, throttled: 0, dup: 0, noTargets: 0, unknown: {}, goneCalls: {} }
const lastSearch = new Map()
const origSearch = HubProto.search
HubProto.search = function (query, session, signal) {
  const c = this.ctx.supernodes.candidateCount()
  if (c === 0) ins.reach1++; else ins.reach2++
  if (this.ctx.supernodes.ids().length === 0) ins.noTargets++
  lastSearch.set(this.ctx.network.peerId, { cand: c, links: this.ctx.supernodes.ids().length })
  return origSearch.call(this, query, session, signal)
}
const origGone = HubProto.gone
HubProto.gone = function (id) { const wasLeaf = this.leaves.has(id), wasLink = this.ctx.supernodes.has(id); if (wasLeaf || wasLink) { const k = (wasLeaf ? 'leaf' : 'link') + (this.ctx.network.isConnected(id) ? ' still-connected' : ' disconnected') + ' at ' + (clock.now() < qStart ? 'before' : 'during'); ins.goneCalls[k] = (ins.goneCalls[k] ?? 0) + 1 } return origGone.call(this, id) }
const origOnQuery = HubProto.onQuery
HubProto.onQuery = function (msg, from) {
  if (!this.leaves.get(from) && !this.ctx.supernodes.get(from)) {
    ins.unknownSender++
    const fp = byId.get(from)
    const fo = fp && fp.peer.overlay
    const me = this.ctx.network.peerId
    const kind = !fo ? 'unknown-peer' : fo.hub ? (fo.supernodes.has(me) ? 'hub-thinks-linked' : 'hub-not-linked') : (fo.leaf.attached?.id === me ? 'leaf-thinks-attached' : 'leaf-attached-elsewhere')
    const conn = this.ctx.network.isConnected(from) ? 'connected' : 'not-connected'
    const k = kind + ' ' + conn + ' ttl' + msg.ttl + ' hops' + msg.hops
    ins.unknown[k] = (ins.unknown[k] ?? 0) + 1
  }
  return origOnQuery.call(this, msg, from)
}
const origOnHit = LeafProto.onHit
LeafProto.onHit = function (msg, from) { if (this.attached?.id !== from) ins.leafHitDropped++; return origOnHit.call(this, msg, from) }
const origOnDone = LeafProto.onDone
LeafProto.onDone = function (msg, from) { if (this.attached?.id !== from) ins.leafDoneDropped++; return origOnDone.call(this, msg, from) }
const cands = net.livePeers().filter((p) => p.peer.overlay.hub).map((p) => p.peer.overlay.supernodes.candidateCount()).sort((a, b) => a - b)
console.log('candidateCount min/med/max', cands[0], cands[cands.length >> 1], cands[cands.length - 1], 'zero:', cands.filter((c) => c === 0).length)
const ov = (p) => p.peer.overlay
const sns = net.livePeers().filter((p) => ov(p).hub)
const byId = new Map(net.livePeers().map((p) => [p.peer.network.peerId, p]))
const links = new Map(sns.map((p) => [p.peer.network.peerId, ov(p).supernodes.ids()]))
const deg = [...links.values()].map((l) => l.length).sort((a, b) => a - b)
const leafCounts = sns.map((p) => ov(p).hub.leafCount).sort((a, b) => a - b)
function within(id, ttl) { const seen = new Set([id]); let front = [id]; for (let d = 0; d < ttl; d++) { const nx = []; for (const x of front) for (const y of links.get(x) ?? []) if (!seen.has(y)) { seen.add(y); nx.push(y) } front = nx } return seen }
let cov1 = 0, cov2 = 0
for (const id of links.keys()) { cov1 += within(id, 1).size; cov2 += within(id, 2).size }
// asymmetric links?
let asym = 0, tot = 0
for (const [a, l] of links) for (const b of l) { tot++; if (!(links.get(b) ?? []).includes(a)) asym++ }
const ageRank = new Map(sns.slice().sort((a, b) => ov(a).hub.since - ov(b).hub.since).map((p, i) => [p.peer.network.peerId, i]))
let gapSum = 0, gapN = 0
for (const [a, l] of links) for (const b of l) { gapSum += Math.abs(ageRank.get(a) - ageRank.get(b)); gapN++ }
console.log('mean |age rank gap| over links', (gapSum / gapN).toFixed(1), 'of', sns.length, 'supernodes (random graph: ~', (sns.length / 3).toFixed(1), ')')
const leaves = net.livePeers().filter((p) => !ov(p).hub)
const unattached = leaves.filter((p) => !ov(p).leaf.attached).length
console.log(JSON.stringify({ live: net.liveCount, supernodes: sns.length, deg: [deg[0], deg[deg.length >> 1], deg[deg.length - 1]], leaves: [leafCounts[0], leafCounts[leafCounts.length >> 1], leafCounts[leafCounts.length - 1]], cov1: cov1 / sns.length, cov2: cov2 / sns.length, asym, tot, unattached }))
// records registered
let missing = 0, recs = 0
const snOf = (p) => ov(p).hub ? p.peer.network.peerId : ov(p).leaf.attached?.id
for (const p of net.livePeers()) for (const r of p.files) { recs++; const sn = byId.get(snOf(p)); const f = catalog.files[r]; const hits = sn ? ov(sn).hub.local({ keywords: f.keywords }) : []; if (!hits.some((h) => h.hash === f.hash && h.providers.some((x) => x.id === p.peer.network.peerId))) missing++ }
console.log('records', recs, 'not in their supernode directory', missing)
const holders = catalog.files.map(() => []); for (const p of net.peers) for (const r of p.files) holders[r].push(p)
var qStart = clock.now()
let fin = 0, fails = 0, ans = 0; const reasons = {}; let qa = 0
const th0 = sns.reduce((a, p) => a + ov(p).hub.figures.throttled, 0)
for (let i = 0; i < opts.queries; i++) { qa += exponential(random, opts.queryInterval); clock.setTimeout(() => {
  const asker = net.randomLive(); const q = catalog.query(random)
  const m = catalog.matching(q.keywords); const hl = m.flatMap((r) => holders[r].filter((p) => p.alive))
  const a = hl.length > 0
  const askSn = snOf(asker)
  void runQuery(net, asker, q, a, opts.queryTimeout, catalog).then((o) => { fin++; if (!a) return; ans++; if (o.succeeded) return; fails++
    const reach = askSn ? within(askSn, 2) : new Set()
    const d = hl.map((h) => { const s = snOf(h); return s === undefined ? 'noSN' : reach.has(s) ? (within(askSn,1).has(s) ? 'd<=1' : 'd2') : 'far' })
    const ls = lastSearch.get(askSn)
    const k = (askSn ? (ov(asker).hub ? 'askerSN ' : 'askerLeaf ') : 'askerNoSN ') + [...new Set(d)].sort().join(',') + (ls ? ` cand${ls.cand === 0 ? '0' : '>0'}` : ' nosearch')
    reasons[k] = (reasons[k] ?? 0) + 1
    const det = hl.map((h) => { const s = snOf(h); const sp = byId.get(s); const f = catalog.files.find((ff) => h.files.includes(ff.rank) && m.includes(ff.rank)); const inDir = sp && f ? ov(sp).hub?.local({ keywords: f.keywords }).some((x) => x.hash === f.hash && x.providers.some((pp) => pp.id === h.peer.network.peerId)) : 'n/a'; return { holderIsSN: !!ov(h).hub, sn: s?.slice(-6), linkedToAsker: askSn && sp ? (ov(sp).supernodes.has(askSn) ? 'yes' : (links.get(askSn) ?? []).includes(s) ? 'one-way' : s === askSn ? 'same' : 'no') : '?', inDir } })
    console.log('FAIL', JSON.stringify({ at: clock.now(), askSn: askSn?.slice(-6), askerLinksNow: ov(byId.get(askSn) ?? asker)?.supernodes?.ids().length, det })) })
}, qa) }
await clock.run({ until: () => fin === opts.queries })
const th1 = sns.reduce((a, p) => a + (ov(p).hub?.figures.throttled ?? 0), 0)
console.log(JSON.stringify({ answerable: ans, fails, rate: 1 - fails / ans, throttled: th1 - th0, reasons, ins }))
console.error('total', Date.now() - t0, 'ms', 'races caught', globalThis.racesCaught ?? 0)
process.exit(0)
