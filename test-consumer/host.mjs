// (b) A host application that knows no overlay: the configuration names the third-party one and
// the module that registers it (`plugins`; Bob's also names a third-party index, 'scan'), one peer
// from a config file (its plugin path relative to the file's folder), the other from an object
// (relative to the working directory). They share, find and download a file over TCP; then the
// errors a user sees for a wrong name, a missing plugin and bad options are checked. Exits
// non-zero on any failure.
import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, loadConfigFile, overlays } from '@peerkit/core'
import { bound, roundTrip } from './check.mjs'

bound(60_000, 'host.mjs')
if (overlays.has('one-hop')) throw new Error("'one-hop' is registered before any configuration named it")

const dir = await mkdtemp(join(tmpdir(), 'peerkit-consumer-config-'))
await mkdir(join(dir, 'plugins'))
const plugin = new URL('./third-party-overlay.mjs', import.meta.url)
await writeFile(join(dir, 'plugins', 'overlay.mjs'), `import ${JSON.stringify(plugin.href)}\n`)
await writeFile(
  join(dir, 'alice.json'),
  JSON.stringify({
    overlay: 'one-hop',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    plugins: ['./plugins/overlay.mjs'],
    options: { 'one-hop': { maxHits: 20 } },
  }),
)
const alice = await createPeer(await loadConfigFile(join(dir, 'alice.json')))
await alice.start()
const bob = await createPeer({
  overlay: 'one-hop',
  transport: 'tcp',
  listen: ['tcp://127.0.0.1:0'],
  bootstrap: alice.addresses(),
  index: 'scan',
  plugins: ['./third-party-overlay.mjs', './third-party-index.mjs'],
})
try {
  await bob.start()
  if (alice.status().overlay !== 'one-hop' || bob.status().overlay !== 'one-hop') {
    throw new Error(`overlays are ${alice.status().overlay} and ${bob.status().overlay}, not one-hop`)
  }
  if (bob.shares.constructor.name !== 'ScanIndex')
    throw new Error(`Bob's index is ${bob.shares.constructor.name}, not scan`)
  const { bytes } = await roundTrip(alice, bob)
  const asked = alice.overlay.stats().received.ask
  if (!(asked >= 1)) throw new Error(`Alice answered ${asked} one-hop searches`)
  console.log(
    `one-hop (a plugin named in the configuration) over tcp: ${bytes} bytes found, downloaded, verified`,
  )
} finally {
  await bob.stop()
  await alice.stop()
  await rm(dir, { recursive: true, force: true })
}

const expectError = async (config, pattern) => {
  const err = await createPeer({ transport: 'tcp', ...config }).then(
    (peer) => peer.stop().then(() => undefined),
    (e) => e,
  )
  if (err?.name !== 'InvalidOptionsError' || !pattern.test(err.message)) {
    throw new Error(
      `expected InvalidOptionsError matching ${pattern}, got ${err ? `${err.name}: ${err.message}` : 'a peer'}`,
    )
  }
  console.log(`as expected: ${err.message}`)
}
await expectError({ overlay: 'one-hopp' }, /overlay must be one of .*'one-hop'.*\(got 'one-hopp'\)/)
await expectError(
  { overlay: 'one-hop', plugins: ['./missing-overlay.mjs'] },
  /config\.plugins\[0\]: plugin '\.\/missing-overlay\.mjs' failed to load .*not found/,
)
await expectError({ overlay: 'one-hop', options: { 'one-hop': { maxHits: 0 } } }, /one-hop\.maxHits/)
