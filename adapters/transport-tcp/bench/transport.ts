/**
 * Throughput of an encrypted peerkit TCP connection against a raw node:net
 * socket pair, in one process on 127.0.0.1, with backpressure on both.
 *
 *   npm run bench:transport
 *   node adapters/transport-tcp/dist/bench/transport.js [--gib 1] [--rounds 3] [--message 524288] [--compare]
 *
 * Each figure is measured twice: both ends in one thread (each byte is
 * encrypted and decrypted on the core that also does both sides of the
 * loopback copy), and with the receiver in a worker thread, as two peers are
 * on one machine (each end on its own core). Raw node:net is measured the
 * same two ways, so every ratio compares like with like.
 *
 * Messages default to 512 KiB, the chunk size @peerkit/content picks for a 1 GiB file.
 * `--compare` also runs ChaCha20-Poly1305, 256 KiB records, and AES-256-GCM
 * on the thread pool (WebCrypto).
 */
import 'reflect-metadata'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { type Connection, Identity, RealClock } from '@peerkit/core'
import { parseTcpTransportOptions, TcpTransport, type TcpTransportOptions } from '../src/index.js'

const { values: args } = parseArgs({
  args: isMainThread ? process.argv.slice(2) : [],
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

/** The receiving end, in a worker thread: listens, counts bytes, says 'done' at `total`. */
async function receiver(job: {
  kind: 'raw' | 'peerkit'
  total: number
  options: TcpTransportOptions
}): Promise<void> {
  const port = parentPort as NonNullable<typeof parentPort>
  let n = 0
  const count = (length: number) => {
    n += length
    if (n >= job.total) {
      n = Number.NEGATIVE_INFINITY
      port.postMessage('done')
    }
  }
  if (job.kind === 'raw') {
    const server = createServer((socket) => socket.on('data', (d: Buffer) => count(d.length)))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port.postMessage(`tcp://127.0.0.1:${(server.address() as { port: number }).port}`)
  } else {
    const t = new TcpTransport(Identity.generate(), new RealClock(), parseTcpTransportOptions(job.options))
    const listener = await t.listen('tcp://127.0.0.1:0')
    listener.on('connection', (conn) => conn.on('message', (m) => count(m.length)))
    port.postMessage(listener.addresses()[0])
  }
}

/** One transfer with the receiver in a worker thread (its own event loop and core). */
async function split(kind: 'raw' | 'peerkit', options: TcpTransportOptions = {}): Promise<Run> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { kind, total: TOTAL, options } })
  const [address] = (await once(worker, 'message')) as [string]
  const done = once(worker, 'message')
  let run: Run
  if (kind === 'raw') {
    const { port } = new URL(address)
    const client = connect({ port: Number(port), host: '127.0.0.1', noDelay: true })
    await once(client, 'connect')
    const chunk = Buffer.alloc(MESSAGE, 7)
    run = await measure(async () => {
      for (let sent = 0; sent < TOTAL; sent += MESSAGE) if (!client.write(chunk)) await once(client, 'drain')
      await done
    })
    client.destroy()
  } else {
    const t = new TcpTransport(Identity.generate(), new RealClock(), parseTcpTransportOptions(options))
    const conn = await t.dial(address)
    const message = new Uint8Array(MESSAGE).fill(7)
    run = await measure(async () => {
      for (let sent = 0; sent < TOTAL; sent += MESSAGE) await conn.send(message)
      await done
    })
    await t.close()
  }
  await worker.terminate()
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

async function main(): Promise<void> {
  console.log(
    `${(TOTAL / 2 ** 30).toFixed(2)} GiB in ${MESSAGE}-byte messages, 127.0.0.1, ${ROUNDS} round(s), median MB/s (node ${process.version})`,
  )
  const raws: Run[] = []
  const splitRaws: Run[] = []
  const results = new Map<string, Run[]>(variants.map(([name]) => [name, []]))
  const splitResults: Run[] = []
  for (let round = 0; round < ROUNDS; round++) {
    raws.push(await raw())
    for (const [name, options] of variants) results.get(name)?.push(await peerkit(options))
    splitRaws.push(await split('raw'))
    splitResults.push(await split('peerkit'))
  }
  const table = (title: string, base: Run[], rows: [string, Run[]][]) => {
    const rawMbps = median(base.map((r) => r.mbps))
    const rawCpu = median(base.map((r) => r.cpu))
    console.log(`\n${title}`)
    for (const [name, runs] of [['raw node:net', base] as [string, Run[]], ...rows]) {
      const mbps = median(runs.map((r) => r.mbps))
      const cpu = median(runs.map((r) => r.cpu))
      console.log(
        `${name.padEnd(46)}${mbps.toFixed(0).padStart(6)} MB/s  ratio ${(mbps / rawMbps).toFixed(2)}  ` +
          `CPU ${cpu.toFixed(2)} s/GiB (x${(cpu / rawCpu).toFixed(1)})  peak RSS ${Math.max(...runs.map((r) => r.peakRss)).toFixed(0)} MB`,
      )
    }
  }
  table(
    'both ends in one thread',
    raws,
    [...results].map(([name, runs]) => [`peerkit tcp, ${name}`, runs]),
  )
  table('receiver in a worker thread (each end on its own core)', splitRaws, [
    ['peerkit tcp, aes-256-gcm (default)', splitResults],
  ])
  console.log(`\nprocess peak RSS (maxRSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
}

if (isMainThread) await main()
else await receiver(workerData)
