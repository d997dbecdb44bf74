import 'reflect-metadata'
/**
 * Cost of the discrete-event engine per event, against a baseline in the same
 * process: one bare `setImmediate` round trip (the drain the engine needs
 * between two virtual instants). Run: node packages/sim/dist/bench/engine.js
 */
import { SeededRandom } from '@peerkit/core'
import { VirtualClock } from '../src/index.js'

const EVENTS = Number(process.argv[2] ?? 200_000)

async function baseline(): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < EVENTS; i++) await new Promise((r) => setImmediate(r))
  return (performance.now() - start) / EVENTS
}

/** Every timer at its own instant, each starting a promise chain of `depth` steps. */
async function distinct(depth: number): Promise<number> {
  const clock = new VirtualClock()
  const random = new SeededRandom(1)
  let done = 0
  for (let i = 0; i < EVENTS; i++) {
    clock.setTimeout(
      () => {
        let p = Promise.resolve()
        for (let k = 0; k < depth; k++) p = p.then(() => undefined)
        void p.then(() => done++)
      },
      i * 10 + random.int(5),
    )
  }
  const start = performance.now()
  await clock.run()
  if (done !== EVENTS) throw new Error(`only ${done} chains finished`)
  return (performance.now() - start) / EVENTS
}

/** `batch` timers at each instant (a zero-latency network, or whole-ms clocks colliding). */
async function batched(batch: number): Promise<number> {
  const clock = new VirtualClock()
  for (let i = 0; i < EVENTS; i++) clock.setTimeout(() => {}, Math.floor(i / batch))
  const start = performance.now()
  await clock.run()
  return (performance.now() - start) / EVENTS
}

/** Sleeping processes: each loops `sleep(random)` — the shape of overlay maintenance timers. */
async function processes(count: number): Promise<number> {
  const clock = new VirtualClock()
  const random = new SeededRandom(2)
  const rounds = Math.ceil(EVENTS / count)
  for (let i = 0; i < count; i++) {
    const r = random.fork()
    void (async () => {
      for (let k = 0; k < rounds; k++) await clock.sleep(1 + r.int(1000))
    })()
  }
  const start = performance.now()
  const { events } = await clock.run()
  return (performance.now() - start) / events
}

const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`
const base = await baseline()
console.log(`events: ${EVENTS}`)
console.log(`baseline: one setImmediate round trip          ${us(base)}  (1.00×)`)
for (const depth of [0, 10]) {
  const c = await distinct(depth)
  console.log(
    `distinct instants, promise chain depth ${String(depth).padEnd(2)}    ${us(c)}  (${(c / base).toFixed(2)}×)`,
  )
}
for (const batch of [10, 100]) {
  const c = await batched(batch)
  console.log(
    `${String(batch).padStart(3)} timers per instant (batched drain)      ${us(c)}  (${(c / base).toFixed(2)}×)`,
  )
}
const p = await processes(10_000)
console.log(`10,000 sleeping processes (heap of 10k)        ${us(p)}  (${(p / base).toFixed(2)}×)`)
const heapStart = process.memoryUsage().heapUsed
const clock = new VirtualClock()
for (let i = 0; i < 1_000_000; i++) clock.setTimeout(() => {}, i)
console.log(
  `memory per queued timer                        ${((process.memoryUsage().heapUsed - heapStart) / 1e6).toFixed(0)} bytes`,
)
