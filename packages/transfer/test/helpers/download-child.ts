// A downloader in its own process, to be killed with SIGKILL mid-download.
// argv: hash, to, provider PeerRef (JSON), dataDir. Prints one JSON line per progress event.
import 'reflect-metadata'
import { createPeer } from '@peerkit/core'
import './peers.js'

const [hash, to, provider, dataDir] = process.argv.slice(2) as [string, string, string, string]
const peer = await createPeer({
  overlay: 'test-none',
  transport: 'tcp',
  listen: ['tcp://127.0.0.1:0'],
  dataDir,
  options: { default: { progressInterval: 10, checkpointInterval: 10 } },
})
await peer.start()
const download = peer.download(hash, { to, providers: [JSON.parse(provider)] })
download.on('progress', (p) => process.stdout.write(`${JSON.stringify({ bytes: p.bytes, size: p.size })}\n`))
await download.done
process.stdout.write('{"done":true}\n')
await peer.stop()
