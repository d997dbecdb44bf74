import 'reflect-metadata'
import '/work/main/packages/cli/dist/src/register.js'
import { DemoNetwork } from '/work/main/packages/cli/dist/src/demo/demo-network.js'
const net = new DemoNetwork({ overlay: 'central', transport: 'tcp' })
await net.startDirectory()
const b = await net.addPeer('bob')
const c = await net.addPeer('carol')
await new Promise(r => setTimeout(r, 300))
let t = Date.now()
await b.stop(); console.log('bob stopped', Date.now() - t)
t = Date.now()
await net.directory.stop(); console.log('dir stopped', Date.now() - t)
t = Date.now()
await c.stop(); console.log('carol stopped', Date.now() - t)
