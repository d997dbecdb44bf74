import 'reflect-metadata'
import { Identity, RealClock } from '@peerkit/core'
import { TcpTransport, parseTcpTransportOptions } from '/work/main/adapters/transport-tcp/dist/src/index.js'
const opts = JSON.parse(process.argv[2] ?? '{}')
const MSG = Number(process.argv[3] ?? 524288)
const TOTAL = 512 * 1024 * 1024
const o = parseTcpTransportOptions(opts)
const a = new TcpTransport(Identity.generate(), new RealClock(), o)
const b = new TcpTransport(Identity.generate(), new RealClock(), o)
const l = await a.listen('tcp://127.0.0.1:0')
const inbound = new Promise(r => l.once('connection', r))
const c = await b.dial(l.addresses()[0])
const i = await inbound
let n = 0
const done = new Promise(r => i.on('message', m => { n += m.length; if (n >= TOTAL) r() }))
const msg = new Uint8Array(MSG).fill(3)
const t0 = process.hrtime.bigint()
let waits = 0
for (let s = 0; s < TOTAL; s += MSG) await c.send(msg)
await done
const sec = Number(process.hrtime.bigint() - t0) / 1e9
console.log(JSON.stringify(opts), MSG, (TOTAL / 1e6 / sec).toFixed(0), 'MB/s')
await a.close(); await b.close()
