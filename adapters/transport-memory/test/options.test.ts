import { DEFAULT_MAX_MESSAGE_SIZE } from '@peerkit/core'
import test from 'ava'
import {
  MemoryNetwork,
  memoryAddress,
  memoryTransport,
  parseMemoryAddress,
  parseMemoryTransportOptions,
} from '../src/index.js'
import { DEFAULT_SEND_BUFFER_SIZE } from '../src/options.js'

test('defaults, frozen', (t) => {
  const o = parseMemoryTransportOptions()
  t.deepEqual(o, {
    maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    sendBufferSize: DEFAULT_SEND_BUFFER_SIZE,
    authenticate: true,
  })
  t.true(Object.isFrozen(o))
  t.deepEqual(parseMemoryTransportOptions(null), o)
  t.deepEqual(parseMemoryTransportOptions({ authenticate: false, maxMessageSize: 10 }), {
    maxMessageSize: 10,
    sendBufferSize: DEFAULT_SEND_BUFFER_SIZE,
    authenticate: false,
  })
})

test('bad options name the field and the value', (t) => {
  t.throws(() => parseMemoryTransportOptions({ maxMessageSize: 0 }), {
    name: 'InvalidOptionsError',
    message: /memory\.maxMessageSize .*got 0/,
  })
  t.throws(() => parseMemoryTransportOptions({ sendBufferSize: 1.5 }), {
    name: 'InvalidOptionsError',
    message: /memory\.sendBufferSize/,
  })
  t.throws(() => parseMemoryTransportOptions({ authenticate: 'yes' }), {
    name: 'InvalidOptionsError',
    message: /memory\.authenticate .*"yes"/,
  })
  t.throws(() => parseMemoryTransportOptions({ latency: 5 }), {
    name: 'InvalidOptionsError',
    message: /memory\.latency is not an option/,
  })
  t.throws(() => parseMemoryTransportOptions({ sendBuferSize: 5 }), {
    name: 'InvalidOptionsError',
    message: 'memory.sendBuferSize is not an option; did you mean sendBufferSize?',
  })
  t.throws(() => parseMemoryTransportOptions({ maxMessageSize: 0 }), {
    message: /^memory\.maxMessageSize must be an integer from 1 to \d+ \(got 0\)$/,
  })
  t.throws(() => parseMemoryTransportOptions('fast'), {
    name: 'InvalidOptionsError',
    message: 'memory must be an object (got "fast")',
  })
  t.throws(() => memoryTransport({ maxMessageSize: -1 }), { name: 'InvalidOptionsError' })
})

test('addresses: names, wildcards, and bad ones', (t) => {
  t.is(parseMemoryAddress('memory://alice'), 'alice')
  t.is(parseMemoryAddress('memory://node-1.example'), 'node-1.example')
  t.is(parseMemoryAddress('memory://'), undefined)
  t.is(parseMemoryAddress('memory://*'), undefined)
  t.is(parseMemoryAddress('memory://0'), undefined)
  t.is(memoryAddress('bob'), 'memory://bob')
  t.throws(() => parseMemoryAddress('tcp://127.0.0.1:1'), { name: 'InvalidOptionsError' })
  t.throws(() => parseMemoryAddress('memory://a/b'), { name: 'InvalidOptionsError' })
  t.throws(() => parseMemoryAddress('memory://a b'), { name: 'InvalidOptionsError' })
})

test('the hub validates its link model', (t) => {
  t.throws(() => new MemoryNetwork({ latency: -1 }), { name: 'InvalidOptionsError', message: /latency/ })
  t.throws(() => new MemoryNetwork({ latency: { min: 5, max: 1 } }), {
    name: 'InvalidOptionsError',
    message: /latency\.max/,
  })
  t.throws(() => new MemoryNetwork({ latency: { mean: Number.NaN } }), { name: 'InvalidOptionsError' })
  t.throws(() => new MemoryNetwork({ bandwidth: 0 }), { name: 'InvalidOptionsError', message: /bandwidth/ })
  t.throws(() => new MemoryNetwork({ loss: 1.5 }), { name: 'InvalidOptionsError', message: /loss/ })
  const hub = new MemoryNetwork({
    latency: { min: 10, max: 20 },
    bandwidth: Number.POSITIVE_INFINITY,
    loss: 0,
  })
  const random = { next: () => 0.5 } as never
  t.is(hub.latency('a', 'b', random), 15)
  t.is(hub.bandwidth('a', 'b'), Number.POSITIVE_INFINITY)
})
