import { overlayConnectivity } from '@peerkit/core'
import test from 'ava'
import { createDirectoryServer } from '../src/index.js'
import { centralNet, uniqueName } from './helpers/net.js'

test('connectivity: bootstrapping with the reason while no directory answers, connected once one does, and again after it drops', async (t) => {
  const net = await centralNet(t, 0, { server: { heartbeatInterval: 100, dropAfter: 500 } })
  const later = `memory://${uniqueName('late-directory')}`
  const alice = await net.add({ bootstrap: [later] })
  const before = alice.overlay.connectivity()
  t.is(before.state, 'bootstrapping')
  t.is(before.neighbors, 0)
  t.regex(before.reason ?? '', /no directory server answered/)
  const options = { heartbeatInterval: 100, dropAfter: 500 }
  const directory = await createDirectoryServer(
    { transport: 'memory', listen: [later], options },
    { container: net.container },
  )
  t.teardown(() => directory.stop())
  await directory.start()
  t.true(await net.clock.until(5000, () => alice.overlay.connected), 'it connects by itself')
  t.deepEqual(overlayConnectivity(alice.overlay), { state: 'connected', neighbors: 1 })
  await directory.stop()
  t.true(await net.clock.until(3000, () => alice.overlay.connectivity().state === 'bootstrapping'))
})
