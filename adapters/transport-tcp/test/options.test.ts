import { DEFAULT_MAX_MESSAGE_SIZE, transports } from '@peerkit/core'
import test from 'ava'
import { parseTcpTransportOptions, tcpTransport } from '../src/index.js'
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_RECORD_SIZE,
  MAX_RECORD_SIZE,
} from '../src/options.js'

test('defaults are filled in and the result is frozen', (t) => {
  const o = parseTcpTransportOptions()
  t.is(o.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE)
  t.is(o.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT)
  t.is(o.maxHandshakes, DEFAULT_MAX_HANDSHAKES)
  t.is(o.highWaterMark, DEFAULT_HIGH_WATER_MARK)
  t.is(o.recordSize, DEFAULT_RECORD_SIZE)
  t.is(o.cipher, 'aes-256-gcm')
  t.false(o.offload)
  t.true(o.noDelay)
  t.true(Object.isFrozen(o))
  t.deepEqual(parseTcpTransportOptions(null), o)
})

test('given values are kept', (t) => {
  const o = parseTcpTransportOptions({
    maxMessageSize: 1000,
    cipher: 'chacha20-poly1305',
    offload: true,
    recordSize: 1024,
    closeTimeout: 0,
  })
  t.is(o.maxMessageSize, 1000)
  t.is(o.cipher, 'chacha20-poly1305')
  t.true(o.offload)
  t.is(o.recordSize, 1024)
  t.is(o.closeTimeout, 0)
})

test('bad values throw InvalidOptionsError naming the field and the value', (t) => {
  const cases: [unknown, RegExp][] = [
    [{ maxMessageSize: 0 }, /tcp\.maxMessageSize must be an integer from 1 to 4294967295 \(got 0\)/],
    [{ handshakeTimeout: 1.5 }, /tcp\.handshakeTimeout must be an integer >= 1 \(got 1\.5\)/],
    [{ maxHandshakes: 0 }, /tcp\.maxHandshakes must be an integer >= 1 \(got 0\)/],
    [{ highWaterMark: '1' }, /tcp\.highWaterMark .*\(got "1"\)/],
    [{ recordSize: MAX_RECORD_SIZE + 1 }, /tcp\.recordSize must be an integer from 1024 to 1048576/],
    [{ cipher: 'rot13' }, /tcp\.cipher must be one of "aes-256-gcm", "chacha20-poly1305" \(got "rot13"\)/],
    [{ offload: 'yes' }, /tcp\.offload must be true or false/],
    [{ port: 1 }, /tcp\.port is not an option/],
    [[1], /tcp must be an object/],
  ]
  for (const [input, message] of cases) {
    t.throws(
      () => parseTcpTransportOptions(input),
      { name: 'InvalidOptionsError', message },
      JSON.stringify(input),
    )
  }
})

test('a misspelt option gets the nearest name; an out-of-range value names the option', (t) => {
  t.throws(() => parseTcpTransportOptions({ maxHandshakesPerAdress: 8 }), {
    name: 'InvalidOptionsError',
    message: 'tcp.maxHandshakesPerAdress is not an option; did you mean maxHandshakesPerAddress?',
  })
  t.throws(() => parseTcpTransportOptions({ highWaterMark: 1023 }), {
    name: 'InvalidOptionsError',
    message: 'tcp.highWaterMark must be an integer >= 1024 (got 1023)',
  })
  t.throws(() => parseTcpTransportOptions({ closeTimeout: -1 }), {
    name: 'InvalidOptionsError',
    message: 'tcp.closeTimeout must be an integer >= 0 (got -1)',
  })
})

test("importing the package registers 'tcp', whose factory validates first", (t) => {
  t.true(transports.has('tcp'))
  t.is(transports.get('tcp'), tcpTransport)
  t.throws(() => transports.get('tcp')({ maxMessageSize: -1 }), { name: 'InvalidOptionsError' })
  t.is(typeof tcpTransport(), 'function')
})
