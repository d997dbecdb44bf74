import test from 'ava'
import { formatStreamAddress, parseStreamAddress, streamTransport } from '../src/index.js'

test('addresses: ws://HOST:PORT, IPv6 in brackets, port 0 only to listen', (t) => {
  t.deepEqual(parseStreamAddress('ws://127.0.0.1:4001'), { host: '127.0.0.1', port: 4001 })
  t.deepEqual(parseStreamAddress('ws://[::1]:4001'), { host: '::1', port: 4001 })
  t.deepEqual(parseStreamAddress('ws://127.0.0.1:0', true), { host: '127.0.0.1', port: 0 })
  t.is(formatStreamAddress('::1', 80), 'ws://[::1]:80')
  for (const bad of ['tcp://127.0.0.1:1', 'ws://127.0.0.1', 'ws://127.0.0.1:0', 'ws://h:1/path', 'nonsense'])
    t.throws(() => parseStreamAddress(bad), { name: 'InvalidOptionsError' }, bad)
})

test('options are checked before any container exists, naming the field', (t) => {
  t.throws(() => streamTransport({ maxMessageSize: 0 }), {
    name: 'InvalidOptionsError',
    message: /stream\.maxMessageSize/,
  })
  t.throws(() => streamTransport({ cipher: 'rot13' }), {
    name: 'InvalidOptionsError',
    message: /stream\.cipher/,
  })
  t.throws(() => streamTransport({ highWaterMrk: 1 }), {
    name: 'InvalidOptionsError',
    message: /highWaterMrk/,
  })
})
