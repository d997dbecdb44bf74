// Heap per stored copy of a chord simulation after publishing (issue #25):
//   node --expose-gc --max-semi-space-size=64 packages/overlay-chord/bench/store-heap.mjs [ROOT] NODES
// ROOT is a checkout with its packages built (default: this one). After the publish and the settle,
// the heap (gc'd) is read with every node's records, after clearing every node's Index, and after
// clearing the stores too: the differences are the Index's part and the store's part (the records
// themselves with their strings). Prints them per stored copy, with the requests sent by type.
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'

const args = process.argv.slice(2)
const root = args.length === 2 ? args.shift() : fileURLToPath(new URL('../../..', import.meta.url))
const nodes = Number(args[0])
if (typeof global.gc !== 'function') throw new Error('run node with --expose-gc')
await import(`${root}/node_modules/reflect-metadata/Reflect.js`)
const { runSimulation } = await import(`${root}/packages/sim/dist/src/index.js`)
const heap = () => {
  global.gc()
  global.gc()
  return v8.getHeapStatistics().used_heap_size
}
await runSimulation(
  { overlay: 'chord', nodes, queries: 1, seed: 1 },
  {
    onBuilt: (net) => {
      const peers = net.livePeers()
      let copies = 0
      let heldBytes = 0
      const sent = {}
      for (const p of peers) {
        const store = p.peer.overlay.store // private: read for the measure only
        copies += store.size
        heldBytes += store.heldBytes
        for (const [k, v] of Object.entries(p.peer.overlay.stats().sent)) sent[k] = (sent[k] ?? 0) + v
      }
      const all = heap()
      const rss = process.memoryUsage().rss
      for (const p of peers) p.peer.overlay.store.index.clear()
      const withoutIndex = heap()
      for (const p of peers) p.peer.overlay.store.clear()
      const without = heap()
      const per = (bytes) => Math.round(bytes / copies)
      console.log(
        JSON.stringify({
          nodes,
          copies,
          heapWith: all,
          bytesPerCopy: per(all - without),
          indexPerCopy: per(all - withoutIndex),
          storePerCopy: per(withoutIndex - without),
          accountedPerCopy: per(heldBytes),
          rss,
          sent,
        }),
      )
      process.exit(0)
    },
  },
)
