import test from 'ava'
import { container as root } from 'tsyringe'
import {
  buildPeerContainer,
  CLOCK,
  IDENTITY,
  Identity,
  INDEX_FACTORY,
  LOCAL_INDEX,
  NETWORK,
  Network,
  OVERLAY,
  Peer,
  TRANSPORT,
} from '../src/index.js'
import { TestClock } from '../src/testing.js'
import {
  registerStubs,
  SoloOverlay,
  STUB_PEER,
  StubTransport,
  stubTransport,
} from './helpers/stub-components.js'

registerStubs()
const base = STUB_PEER

test('a whole peer, as createPeer wires it', async (t) => {
  const c = buildPeerContainer({ ...base, listen: ['stub://build-whole'] })
  t.teardown(() => c.dispose())
  const peer = c.resolve(Peer)
  t.is(c.resolve(NETWORK), c.resolve(Network), 'NETWORK is the container-scoped Network')
  t.true(c.resolve(OVERLAY) instanceof SoloOverlay)
  t.is(c.resolve(LOCAL_INDEX), c.resolve(LOCAL_INDEX), 'one LOCAL_INDEX per peer')
  await peer.start()
  t.deepEqual(peer.addresses(), ['stub://build-whole'])
  await peer.stop()
})

test('a Network alone: no component named is registered, a transport given by hand is', async (t) => {
  const clock = new TestClock()
  const identity = Identity.generate()
  const parent = root.createChildContainer()
  parent.register(CLOCK, { useValue: clock })
  const c = buildPeerContainer(
    { overlay: 'none', transport: 'absent', listen: ['stub://build-alone'] },
    { container: parent, identity, components: [], register: stubTransport() },
  )
  t.teardown(() => c.dispose())
  t.is(c.resolve(CLOCK), clock, "the parent's clock")
  t.is(c.resolve(IDENTITY), identity)
  t.false(c.isRegistered(OVERLAY, true))
  t.false(c.isRegistered(INDEX_FACTORY, true))
  t.false(c.isRegistered(LOCAL_INDEX, true))
  t.true(c.resolve(TRANSPORT) instanceof StubTransport)
  const network = c.resolve(NETWORK)
  await network.start()
  t.deepEqual(network.addresses(), ['stub://build-alone'])
  await network.stop()
})

test('later registrations win, and bad options fail before any container exists', (t) => {
  const other = new TestClock()
  const c = buildPeerContainer(base, { register: [(cc) => cc.register(CLOCK, { useValue: other })] })
  t.teardown(() => c.dispose())
  t.is(c.resolve(CLOCK), other)
  t.throws(() => buildPeerContainer({ ...base, overlay: 'nope' }), { name: 'InvalidOptionsError' })
  t.throws(() => buildPeerContainer({ ...base, listen: 'x' } as never), { name: 'InvalidOptionsError' })
})
