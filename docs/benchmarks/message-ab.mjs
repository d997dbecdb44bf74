// One flooding message end to end (Network.send, Mux, memory transport, virtual clock, Mux, Network,
// handler), as in packages/sim/bench/message.ts, but measured in CPU time and runnable against any
// built checkout, so two trees can be compared side by side on a loaded machine (docs/benchmarks/sim.md):
//   node docs/benchmarks/message-ab.mjs /path/to/checkout-before 100000 & node docs/benchmarks/message-ab.mjs . 100000
const ROOT = new URL(process.argv[2].replace(/\/?$/, '/'), `file://${process.cwd()}/`).pathname.replace(/\/$/, ''); const N = +process.argv[3]
await import(ROOT + '/node_modules/reflect-metadata/Reflect.js')
const { defineProtocol } = await import(ROOT + '/packages/core/dist/src/index.js')
const { FLOODING } = await import(ROOT + '/packages/overlay-flooding/dist/src/index.js')
const { loadOverlay, SimNetwork } = await import(ROOT + '/packages/sim/dist/src/index.js')
const BENCH = defineProtocol('peerkit/bench/1', FLOODING.request, FLOODING.response)
const body = { kind: 'query', id: '0123456789abcdef0123456789abcdef', ttl: 4, hops: 2, query: { keywords: ['harry', 'potter'] } }
await loadOverlay('flooding')
const net = new SimNetwork({ overlay: 'flooding', seed: 1, latency: 50, overlayOptions: {} })
const a = await net.addPeer([], []), b = await net.addPeer([], [])
let received = 0
b.peer.network.handle(BENCH, () => { received++; return null })
await net.clock.settle(a.peer.network.connect({ id: b.peer.id, addresses: b.peer.addresses() }))
const send = (i) => { body.hops = i & 255; return a.peer.network.send(b.peer.id, BENCH, body) }
let best = Infinity
for (let round = 0; round < 6; round++) {
  const base = received
  const t0 = performance.now(); const c0 = process.cpuUsage()
  for (let i = 0; i < N; i += 1000) net.clock.setTimeout(() => { for (let k = 0; k < 1000; k++) void send(i + k) }, i / 1000)
  await net.clock.run({ until: () => received >= base + N })
  const cpu = process.cpuUsage(c0); const us = (cpu.user + cpu.system) / N
  if (round > 0) best = Math.min(best, us)
}
console.log(ROOT, 'end to end, best of 5 rounds of', N, ':', best.toFixed(2), 'µs CPU per message,', Math.round(1e6 / best).toLocaleString('en'), 'msgs/s')
process.exit(0)
