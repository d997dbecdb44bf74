import 'reflect-metadata'
import './dist/src/register.js'
import { DemoNetwork } from './dist/src/demo/demo-network.js'
const net = new DemoNetwork({ overlay: 'central', transport: process.argv[2] ?? 'tcp' })
await net.startDirectory()
for (const n of ['bob','carol','dave','alice']) await net.addPeer(n)
await new Promise(r => setTimeout(r, 300))
let t = Date.now()
await Promise.all([...net.peers.values()].map(async (p, i) => { const t0 = Date.now(); await p.stop(); console.log('peer', i, Date.now() - t0) }))
t = Date.now()
await net.directory.stop(); console.log('dir stopped', Date.now() - t)
const h = process._getActiveHandles(); console.log('handles', h.length, h.map(x => x.constructor.name))
