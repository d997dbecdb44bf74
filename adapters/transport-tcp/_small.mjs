import 'reflect-metadata'
import { Identity, RealClock } from '@peerkit/core'
import { TcpTransport, parseTcpTransportOptions } from './dist/src/index.js'
const o = parseTcpTransportOptions({})
const a = new TcpTransport(Identity.generate(), new RealClock(), o)
const b = new TcpTransport(Identity.generate(), new RealClock(), o)
const l = await a.listen('tcp://127.0.0.1:0')
const acc = new Promise(r => l.once('connection', r))
const c = await b.dial(l.addresses()[0]); const i = await acc
const N = 200000; const msg = new Uint8Array(64)
for (const mode of (process.argv[2] ?? 'await,burst').split(',')) {
  let n = 0; const done = new Promise(r => { const on = () => { if (++n === N) { i.off('message', on); r() } }; i.on('message', on) })
  const t = process.hrtime.bigint(); const cpu = process.cpuUsage()
  if (mode === 'await') for (let k = 0; k < N; k++) await c.send(msg)
  else { const ps = []; for (let k = 0; k < N; k++) ps.push(c.send(msg)); await Promise.all(ps) }
  await done
  const s = Number(process.hrtime.bigint() - t) / 1e9; const u = process.cpuUsage(cpu)
  console.log(mode, (N / s).toFixed(0), 'msg/s', ((u.user + u.system) / 1e6).toFixed(2), 's cpu')
}
await a.close(); await b.close()
