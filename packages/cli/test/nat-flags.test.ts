import '../src/register.js'
import { transports } from '@peerkit/core'
import test from 'ava'
import { parseNodeOptions } from '../src/index.js'

test('the CLI registers the nat transport', (t) => {
  t.true(transports.has('nat'))
})

test('--relay and --relay-service go to options.nat, and the nat transport takes the place of tcp', (t) => {
  const peer = parseNodeOptions(
    { overlay: 'flooding', listen: ['tcp://0.0.0.0:4001'], relay: ['tcp://203.0.113.5:4002'] },
    { options: { nat: { punchTimeout: 2000 } } },
    '/',
  )
  t.is(peer.config.transport, 'nat')
  t.deepEqual(peer.config.options?.nat, { punchTimeout: 2000, relays: ['tcp://203.0.113.5:4002'] })
  const relay = parseNodeOptions(
    { overlay: 'chord', listen: ['tcp://0.0.0.0:4001'], relayService: ['tcp://0.0.0.0:4002'] },
    { options: { nat: { service: { maxCircuits: 8 } } } },
    '/',
  )
  t.is(relay.config.transport, 'nat')
  t.deepEqual(relay.config.options?.nat, { service: { maxCircuits: 8, listen: 'tcp://0.0.0.0:4002' } })
})

test('--relay keeps the other transports a config names, and --transport wins', (t) => {
  const both = parseNodeOptions(
    { overlay: 'flooding', relay: ['tcp://203.0.113.5:4002'] },
    { transport: ['tcp', 'webrtc'] },
    '/',
  )
  t.deepEqual(both.config.transport, ['nat', 'webrtc'])
  const named = parseNodeOptions(
    { overlay: 'flooding', transport: 'tcp', relay: ['tcp://203.0.113.5:4002'] },
    undefined,
    '/',
  )
  t.is(named.config.transport, 'tcp')
})
