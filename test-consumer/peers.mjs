// (a) What the README promises, from the installed tarballs alone: two peers over TCP on
// 127.0.0.1 with the flooding overlay; Alice shares a file, Bob finds it, downloads it, and the
// bytes match. Exits non-zero on any failure.
import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/overlay-flooding'
import { createPeer } from '@peerkit/core'
import { bound, roundTrip } from './check.mjs'

bound(60_000, 'peers.mjs')
const alice = await createPeer({ overlay: 'flooding', transport: 'tcp', listen: ['tcp://127.0.0.1:0'] })
await alice.start()
const bob = await createPeer({
  overlay: 'flooding',
  transport: 'tcp',
  listen: ['tcp://127.0.0.1:0'],
  bootstrap: alice.addresses(),
})
try {
  await bob.start()
  const { hash, bytes } = await roundTrip(alice, bob)
  console.log(`flooding over tcp: found, downloaded and verified ${bytes} bytes (${hash.slice(0, 12)}…)`)
} finally {
  await bob.stop()
  await alice.stop()
}
