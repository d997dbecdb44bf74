import test from 'ava'
import {
  formatWebSocketAddress,
  parseWebSocketAddress,
  parseWebSocketTransportOptions,
} from '../src/index.js'

test('defaults are tcp’s limits, frozen', (t) => {
  const o = parseWebSocketTransportOptions()
  t.is(o.maxMessageSize, 4 * 1024 * 1024)
  t.is(o.handshakeTimeout, 10_000)
  t.is(o.maxHandshakes, 128)
  t.is(o.maxHandshakesPerAddress, 32)
  t.is(o.maxHandshakesPerSubnet, 64)
  t.is(o.maxConnectionsPerAddress, 128)
  t.is(o.maxConnectionsPerSubnet, 512)
  t.is(o.messageTimeout, 60_000)
  t.is(o.highWaterMark, 4 * 1024 * 1024)
  t.is(o.cipher, 'aes-256-gcm')
  t.true(Object.isFrozen(o))
})

test('a bad value or an unknown key is an InvalidOptionsError naming the field', (t) => {
  t.throws(() => parseWebSocketTransportOptions({ maxHandshakes: 0 }), {
    name: 'InvalidOptionsError',
    message: /ws\.maxHandshakes/,
  })
  t.throws(() => parseWebSocketTransportOptions({ cipher: 'rot13' }), {
    name: 'InvalidOptionsError',
    message: /ws\.cipher/,
  })
  t.throws(() => parseWebSocketTransportOptions({ messageTimeot: 5 }), {
    name: 'InvalidOptionsError',
    message: /messageTimeout/,
  })
})

test('addresses: ws and wss, default ports, paths, IPv6; anything else is refused', (t) => {
  t.deepEqual(parseWebSocketAddress('ws://127.0.0.1:4001'), {
    secure: false,
    host: '127.0.0.1',
    port: 4001,
    path: '/',
  })
  t.deepEqual(parseWebSocketAddress('wss://peers.example.org/peerkit'), {
    secure: true,
    host: 'peers.example.org',
    port: 443,
    path: '/peerkit',
  })
  t.is(formatWebSocketAddress(parseWebSocketAddress('ws://[::1]:9/p')), 'ws://[::1]:9/p')
  t.is(parseWebSocketAddress('ws://0.0.0.0:0', true).port, 0)
  t.throws(() => parseWebSocketAddress('ws://127.0.0.1:0'), { name: 'InvalidOptionsError' })
  t.throws(() => parseWebSocketAddress('tcp://127.0.0.1:1'), { name: 'InvalidOptionsError' })
  t.throws(() => parseWebSocketAddress('ws://h:1/?x=1'), { name: 'InvalidOptionsError' })
})
