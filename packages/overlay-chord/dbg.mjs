import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import { startRing, ringIsCorrect, FAST } from '/work/main/packages/overlay-chord/dist/test/helpers/ring.js'
const t0 = Date.now()
const chord = { ...FAST, successors: 4, replication: 3, refreshInterval: 2000, recordTtl: 20_000 }
const N = Number(process.argv[2] ?? 30)
const ns = []
const first = await startRing(undefined, 1, { transport: 'tcp', chord })
console.log('first', Date.now() - t0)
const { startNode } = await import('/work/main/packages/overlay-chord/dist/test/helpers/ring.js')
ns.push(...first)
for (let i = 1; i < N; i++) { ns.push(await startNode(undefined, { transport: 'tcp', listen: ['tcp://127.0.0.1:0'], bootstrap: first[0].network.addresses(), chord, seed: i })); console.log('node', i, Date.now() - t0) }
const end = Date.now() + 20000
while (!ringIsCorrect(ns) && Date.now() < end) await new Promise(r => setTimeout(r, 100))
console.log('correct', ringIsCorrect(ns), Date.now() - t0)
await Promise.all(ns.map(n => n.overlay.stop())); console.log("ov stopped", Date.now() - t0); await Promise.all(ns.map((n,i) => n.network.stop().then(() => console.log("net", i, Date.now() - t0))))
console.log('stopped', Date.now() - t0)
process.exit(0)
