/**
 * Memory transport figures: dials per second (with and without
 * authentication), small-message rate and bulk throughput against a baseline
 * (the same bytes copied and handed over on microtasks, with no transport),
 * and the heap a connection costs. Run: node dist/bench/transport.js
 */
import 'reflect-metadata'
import { Identity, RealClock, SeededRandom } from '@peerkit/core'
import { MemoryNetwork, MemoryTransport, parseMemoryTransportOptions } from '../src/index.js'

function transport(hub: MemoryNetwork, authenticate: boolean): MemoryTransport {
  return new MemoryTransport(
    Identity.generate(),
    new RealClock(),
    new SeededRandom(1),
    hub,
    parseMemoryTransportOptions({ authenticate }),
  )
}

async function dialRate(authenticate: boolean, n: number): Promise<number> {
  const hub = new MemoryNetwork()
  const server = transport(hub, authenticate)
  await server.listen('memory://server')
  const client = transport(hub, authenticate)
  const start = performance.now()
  for (let i = 0; i < n; i++) await client.dial('memory://server')
  const rate = n / ((performance.now() - start) / 1000)
  await Promise.all([client.close(), server.close()])
  return rate
}

/** Sends `count` messages of `size` bytes, awaiting each send; returns messages per second. */
async function stream(size: number, count: number): Promise<number> {
  const hub = new MemoryNetwork()
  const server = transport(hub, true)
  const listener = await server.listen('memory://server')
  let received = 0
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  listener.on('connection', (c) =>
    c.on('message', () => {
      if (++received === count) done()
    }),
  )
  const client = transport(hub, true)
  const conn = await client.dial('memory://server')
  const data = new Uint8Array(size)
  const start = performance.now()
  for (let i = 0; i < count; i++) await conn.send(data)
  await all
  const rate = count / ((performance.now() - start) / 1000)
  await Promise.all([client.close(), server.close()])
  return rate
}

/** The floor: copy each message and hand it over on a microtask, nothing else. */
async function baseline(size: number, count: number): Promise<number> {
  const data = new Uint8Array(size)
  let received = 0
  const start = performance.now()
  await new Promise<void>((resolve) => {
    const deliver = (m: Uint8Array) => {
      if (m.byteLength === size && ++received === count) resolve()
    }
    ;(async () => {
      for (let i = 0; i < count; i++) {
        const copy = data.slice()
        queueMicrotask(() => deliver(copy))
        await Promise.resolve()
      }
    })()
  })
  return count / ((performance.now() - start) / 1000)
}

async function heapPerConnection(n: number): Promise<number> {
  const hub = new MemoryNetwork()
  const server = transport(hub, false)
  await server.listen('memory://server')
  const clients = Array.from({ length: n }, () => transport(hub, false))
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const before = process.memoryUsage().heapUsed
  const conns = await Promise.all(clients.map((c) => c.dial('memory://server')))
  gc?.()
  const per = (process.memoryUsage().heapUsed - before) / conns.length
  await Promise.all([...clients.map((c) => c.close()), server.close()])
  return per
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const authed = await dialRate(true, 2000)
const trusted = await dialRate(false, 2000)
console.log(`dials/s, authenticated:            ${fmt(authed)}`)
console.log(`dials/s, authenticate: false:      ${fmt(trusted)}  (${(trusted / authed).toFixed(1)}x)`)

for (const [size, count] of [
  [64, 200_000],
  [64 * 1024, 20_000],
] as const) {
  const base = await baseline(size, count)
  const mem = await stream(size, count)
  const mbps = (mem * size) / 1e6
  console.log(
    `${size} B messages: ${fmt(mem)} msg/s (${fmt(mbps)} MB/s); baseline ${fmt(base)} msg/s; ratio ${(mem / base).toFixed(2)}`,
  )
}
console.log(`heap per connection (both ends): ~${fmt(await heapPerConnection(5000))} bytes`)
