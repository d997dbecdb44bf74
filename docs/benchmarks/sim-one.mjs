// One overlay's simulation in this process, with its figures and the CPU time of each phase:
//   node --min-semi-space-size=128 --max-semi-space-size=128 docs/benchmarks/sim-one.mjs [ROOT] OVERLAY NODES QUERIES [--options=JSON] [--sim=JSON] [--kinds]
// ROOT is a checkout with its packages built (default: this one), so two trees run side by side;
// --options='{"providerRings":0}' passes overlay options; --sim='{"queryInterval":7000,"settle":600000}' passes
// simulation options (SimulationOptions) besides overlay, nodes, queries and the seed; --kinds adds the query
// window's overlay messages by kind, its messages on the hub and its span in ms to the line.
// Add node's --cpu-prof --cpu-prof-dir=DIR to profile.
// The semi-space flags give the young generation a simulation worker has since 5fa2134 (SIM_YOUNG_GENERATION_MB,
// SIM_SEMI_SPACE_MB: started at its full size); the runs of the passes before it used --max-semi-space-size=64.
import { fileURLToPath } from 'node:url'

const flag = process.argv.find((a) => a.startsWith('--options='))
const simFlag = process.argv.find((a) => a.startsWith('--sim='))
const kinds = process.argv.includes('--kinds')
const args = process.argv.slice(2).filter((a) => a !== flag && a !== simFlag && a !== '--kinds')
const root = args.length === 4 ? args.shift() : fileURLToPath(new URL('../..', import.meta.url))
const [overlay, nodes, queries] = args
await import(`${root}/node_modules/reflect-metadata/Reflect.js`)
const { runSimulation } = await import(`${root}/packages/sim/dist/src/index.js`)
const cpu = () => {
  const u = process.cpuUsage()
  return ((u.user + u.system) / 1e6).toFixed(1)
}
let phase = ''
const extra = {
  ...(simFlag ? JSON.parse(simFlag.slice('--sim='.length)) : {}),
  ...(flag ? { overlayOptions: JSON.parse(flag.slice('--options='.length)) } : {}),
}
const r = await runSimulation(
  { overlay, nodes: Number(nodes), queries: Number(queries), seed: 1, ...extra },
  {
    onProgress: (p) => {
      if (p.phase === phase) return
      phase = p.phase
      console.error(`${phase} cpu ${cpu()} s, virtual ${(p.now / 1000).toFixed(0)} s`)
    },
  },
)
console.error(`end (after the teardown) cpu ${cpu()} s`)
console.log(
  JSON.stringify({
    overlay,
    nodes: Number(nodes),
    queries: Number(queries),
    success: r.queries.successRate,
    ...(kinds ? { byKind: r.messages.byKind, total: r.messages.total, span: r.cost.queryPhaseMs } : {}),
    perQuery: r.messages.perQuery,
    backgroundPerSecond: r.messages.backgroundPerSecond,
    ...(kinds
      ? { before: r.messages.backgroundBeforePerSecond, after: r.messages.backgroundAfterPerSecond }
      : {}),
    hops: r.hops.mean,
    firstHitMs: r.firstHitMs.mean,
    messages: r.messages.total,
    events: r.cost.events,
    ...(r.lookups ? { lookups: { correct: r.lookups.correct, checked: r.lookups.checked } } : {}),
  }),
)
process.exit(0)
