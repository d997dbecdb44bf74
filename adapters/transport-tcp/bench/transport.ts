/**
 * Throughput of an encrypted peerkit TCP connection against a raw node:net
 * socket pair, in one process on 127.0.0.1, with backpressure on both.
 *
 *   npm run bench:transport
 *   node adapters/transport-tcp/dist/bench/transport.js [--gib 1] [--rounds 3] [--message 524288] [--compare]
 *
 * Messages default to 512 KiB, the chunk size @peerkit/content picks for a 1 GiB file.
 * `--compare` also runs ChaCha20-Poly1305, 256 KiB records, and AES-256-GCM
 * on the thread pool (WebCrypto).
 */
import 'reflect-metadata'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { type Connection, Identity, RealClock } from '@peerkit/core'
import { parseTcpTransportOptions, TcpTransport, type TcpTransportOptions } from '../src/index.js'

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    message: { type: 'string', default: String(512 * 1024) },
    compare: { type: 'boolean', default: false },
  },
})
const TOTAL = Math.round(Number(args.gib) * 2 ** 30)
const ROUNDS = Number(args.rounds)
const MESSAGE = Number(args.message)

interface Run {
  mbps: number
  /** CPU seconds (user + system, all threads) per GiB moved. */
  cpu: number
  peakRss: number
}

/** Samples RSS while `fn` runs; returns its MB/s for TOTAL bytes and the peak RSS in MB. */
async function measure(fn: () => Promise<void>): Promise<Run> {
  let peak = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 20)
  const start = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  await fn()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const cpuUsed = process.cpuUsage(cpuStart)
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage.rss())
  return {
    mbps: TOTAL / 1e6 / seconds,
    cpu: (cpuUsed.user + cpuUsed.system) / 1e6 / (TOTAL / 2 ** 30),
    peakRss: peak / 1e6,
  }
}

async function raw(): Promise<Run> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect({ port, host: '127.0.0.1', noDelay: true })
  await once(client, 'connect')
  const [inbound] = await accepted
  const chunk = Buffer.alloc(MESSAGE, 7)
  const run = await measure(async () => {
    const received = new Promise<void>((resolve) => {
      let n = 0
      inbound.on('data', (d: Buffer) => {
        n += d.length
        if (n >= TOTAL) resolve()
      })
    })
    for (let sent = 0; sent < TOTAL; sent += MESSAGE) {
      if (!client.write(chunk)) await once(client, 'drain')
    }
    await received
  })
  client.destroy()
  inbound.destroy()
  server.close()
  return run
}

async function peerkit(options: TcpTransportOptions): Promise<Run> {
  const clock = new RealClock()
  const a = new TcpTransport(Identity.generate(), clock, parseTcpTransportOptions(options))
  const b = new TcpTransport(Identity.generate(), clock, parseTcpTransportOptions(options))
  const listener = await a.listen('tcp://127.0.0.1:0')
  const accepted = new Promise<Connection>((resolve) => listener.once('connection', resolve))
  const conn = await b.dial(listener.addresses()[0] as string)
  const inbound = await accepted
  const message = new Uint8Array(MESSAGE).fill(7)
  const run = await measure(async () => {
    const received = new Promise<void>((resolve) => {
      let n = 0
      inbound.on('message', (m) => {
        n += m.length
        if (n >= TOTAL) resolve()
      })
    })
    for (let sent = 0; sent < TOTAL; sent += MESSAGE) await conn.send(message)
    await received
  })
  await a.close()
  await b.close()
  return run
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number

const variants: [string, TcpTransportOptions][] = [['aes-256-gcm (default)', {}]]
if (args.compare) {
  variants.push(
    ['aes-256-gcm, 256 KiB records', { recordSize: 256 * 1024 }],
    ['chacha20-poly1305', { cipher: 'chacha20-poly1305' }],
    ['aes-256-gcm, thread pool', { offload: true }],
  )
}

console.log(
  `${(TOTAL / 2 ** 30).toFixed(2)} GiB in ${MESSAGE}-byte messages, 127.0.0.1, ${ROUNDS} round(s), median MB/s (node ${process.version})`,
)
const raws: Run[] = []
const results = new Map<string, Run[]>(variants.map(([name]) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  raws.push(await raw())
  for (const [name, options] of variants) results.get(name)?.push(await peerkit(options))
}
const rawMbps = median(raws.map((r) => r.mbps))
const rawCpu = median(raws.map((r) => r.cpu))
const row = (name: string, mbps: number, cpu: number, rss: number) =>
  console.log(
    `${name.padEnd(46)}${mbps.toFixed(0).padStart(6)} MB/s  ratio ${(mbps / rawMbps).toFixed(2)}  ` +
      `CPU ${cpu.toFixed(2)} s/GiB (x${(cpu / rawCpu).toFixed(1)})  peak RSS ${rss.toFixed(0)} MB`,
  )
row('raw node:net', rawMbps, rawCpu, Math.max(...raws.map((r) => r.peakRss)))
for (const [name, runs] of results) {
  row(
    `peerkit tcp, ${name}`,
    median(runs.map((r) => r.mbps)),
    median(runs.map((r) => r.cpu)),
    Math.max(...runs.map((r) => r.peakRss)),
  )
}
console.log(`process peak RSS (maxRSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
