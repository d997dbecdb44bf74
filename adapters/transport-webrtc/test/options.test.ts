import { DEFAULT_MAX_MESSAGE_SIZE, Identity, transports } from '@peerkit/core'
import test from 'ava'
import { parseWebRtcTransportOptions } from '../src/index.js'
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_FRAGMENT_SIZE, DEFAULT_HIGH_WATER_MARK } from '../src/options.js'

test('defaults are filled in and the result is frozen', (t) => {
  const o = parseWebRtcTransportOptions()
  t.is(o.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE)
  t.is(o.fragmentSize, DEFAULT_FRAGMENT_SIZE)
  t.is(o.highWaterMark, DEFAULT_HIGH_WATER_MARK)
  t.is(o.connectTimeout, DEFAULT_CONNECT_TIMEOUT)
  t.deepEqual(o.iceServers, [])
  t.deepEqual(o.relays, [])
  t.true(Object.isFrozen(o))
  t.true(Object.isFrozen(o.iceServers))
})

test('valid options are kept', (t) => {
  const relay = Identity.generate().peerId
  const o = parseWebRtcTransportOptions({
    iceServers: ['stun:stun.example.org:3478', 'turn:u:p@turn.example.org:3478'],
    bindAddress: '127.0.0.1',
    fragmentSize: 16 * 1024,
    highWaterMark: 1024 * 1024,
    relays: [relay],
  })
  t.is(o.bindAddress, '127.0.0.1')
  t.is(o.fragmentSize, 16 * 1024)
  t.deepEqual(o.relays, [relay])
})

test('bad options throw InvalidOptionsError naming the field', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['nope', /webrtc must be an object/],
    [{ colour: 1 }, /webrtc\.colour is not an option/],
    [{ maxMessageSize: 0 }, /webrtc\.maxMessageSize/],
    [{ fragmentSize: 256 * 1024 }, /webrtc\.fragmentSize must be an integer from 1024 to 262143/],
    [{ fragmentSize: 65536, highWaterMark: 1000 }, /webrtc\.highWaterMark/],
    [
      { fragmentSize: 4096, highWaterMark: 4096 },
      /webrtc\.highWaterMark must be greater than webrtc\.fragmentSize = 4096 \(got 4096\)/,
    ],
    [{ iceServers: ['http://x'] }, /webrtc\.iceServers/],
    [{ relays: ['not-an-id'] }, /webrtc\.relays/],
    [{ bindAddress: 7 }, /webrtc\.bindAddress/],
    [{ connectTimeout: 1.5 }, /webrtc\.connectTimeout/],
  ]
  for (const [input, message] of cases)
    t.throws(() => parseWebRtcTransportOptions(input), { name: 'InvalidOptionsError', message })
})

test('a misspelt option gets the nearest name; an out-of-range value names the option', (t) => {
  t.throws(() => parseWebRtcTransportOptions({ connectTimout: 5000 }), {
    name: 'InvalidOptionsError',
    message: 'webrtc.connectTimout is not an option; did you mean connectTimeout?',
  })
  t.throws(() => parseWebRtcTransportOptions({ closeTimeout: -1 }), {
    name: 'InvalidOptionsError',
    message: 'webrtc.closeTimeout must be an integer >= 0 (got -1)',
  })
  t.throws(() => parseWebRtcTransportOptions({ relays: ['not-an-id'] }), {
    name: 'InvalidOptionsError',
    message: 'webrtc.relays.0 must be a PeerId (got "not-an-id")',
  })
})

test("importing the package registers 'webrtc', whose factory validates first", (t) => {
  t.true(transports.has('webrtc'))
  t.throws(() => transports.get('webrtc')({ fragmentSize: 1 }), { name: 'InvalidOptionsError' })
})
