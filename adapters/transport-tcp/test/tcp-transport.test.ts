import { startNetwork } from '@peerkit/compliance'
import test from 'ava'
import { parseTcpAddress, tcpTransport } from '../src/index.js'
import {
  bytes,
  collect,
  listen,
  makeTransport,
  next,
  pair,
  pause,
  rawSocket,
  text,
  within,
} from './helpers/index.js'

test('listening on port 0 picks a free port and reports it', async (t) => {
  const { transport } = makeTransport(t)
  const { listener, address } = await listen(transport)
  const { host, port } = parseTcpAddress(address)
  t.is(host, '127.0.0.1')
  t.true(port > 0)
  t.deepEqual(listener.addresses(), [address])
  t.true(transport.handles(address))
  t.false(transport.handles('memory://x'))
})

test('listening on 0.0.0.0 reports usable addresses with the real port', async (t) => {
  const { transport } = makeTransport(t)
  const listener = await transport.listen('tcp://0.0.0.0:0')
  const addresses = listener.addresses()
  const loopback = addresses.find((a) => a.startsWith('tcp://127.0.0.1:'))
  t.truthy(loopback, addresses.join(' '))
  t.false(addresses.some((a) => a.includes('0.0.0.0') || a.endsWith(':0')))
  const { transport: dialer } = makeTransport(t)
  const { inbound } = await pair(dialer, listener, loopback as string)
  t.false(inbound.closed)
})

test('a port already taken, or a bad address, fails listen with InvalidOptionsError', async (t) => {
  const { transport } = makeTransport(t)
  const { address } = await listen(transport)
  await t.throwsAsync(transport.listen(address), { name: 'InvalidOptionsError', message: /cannot listen on/ })
  await t.throwsAsync(transport.listen('tcp://127.0.0.1'), { name: 'InvalidOptionsError' })
  await t.throwsAsync(transport.dial('tcp://127.0.0.1:0'), { name: 'InvalidOptionsError' })
})

test('the inbound side sees the dialer’s observed address; the outbound side the dialed one', async (t) => {
  const { transport: a } = makeTransport(t)
  const { transport: b } = makeTransport(t)
  const { listener, address } = await listen(b)
  const { outbound, inbound } = await pair(a, listener, address)
  t.is(outbound.remoteAddress, address)
  t.regex(inbound.remoteAddress, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  t.not(outbound.id, inbound.id)
})

test('a listener closed stops accepting; its established connections stay open', async (t) => {
  const { transport: a } = makeTransport(t)
  const { transport: b } = makeTransport(t)
  const { listener, address } = await listen(b)
  const { outbound, inbound } = await pair(a, listener, address)
  const closed = next(listener, 'close')
  await within(listener.close(), 'listener close')
  await closed
  await t.throwsAsync(a.dial(address), { name: 'PeerUnreachableError' })
  const got = collect(inbound, 1)
  await outbound.send(bytes('still open'))
  t.is(text((await got)[0] as Uint8Array), 'still open')
})

test('the registration makes one transport per container, built with its options', async (t) => {
  const { transport: first } = makeTransport(t, { maxMessageSize: 10 })
  const { transport: second } = makeTransport(t)
  t.not(first, second)
  t.is(first.name, 'tcp')
  const { listener, address } = await listen(second)
  const { outbound } = await pair(first, listener, address)
  await t.throwsAsync(outbound.send(new Uint8Array(11)), { name: 'ProtocolError', message: /maximum of 10/ })
})

test('a Network reports failed inbound connections as inbound:error and counts them; it goes on serving', async (t) => {
  const network = await startNetwork(t, {
    config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'] },
    transports: tcpTransport({ maxHandshakes: 1 }),
  })
  const address = network.addresses()[0] as string
  const errors: Error[] = []
  network.on('inbound:error', (e) => errors.push(e))
  const garbage = await rawSocket(t, address)
  garbage.write('GET / HTTP/1.1\r\n\r\n')
  await within(
    (async () => {
      while (errors.length === 0) await pause(5)
    })(),
    'inbound:error',
  )
  t.is(errors[0]?.name, 'ProtocolError')
  t.is(network.inboundErrors, 1)
  const { transport: dialer, identity } = makeTransport(t)
  const conn = await within(dialer.dial(address), 'dial after the error')
  t.is(conn.remotePeer, network.peerId)
  await within(
    (async () => {
      while (!network.isConnected(identity.peerId)) await pause(5)
    })(),
    'the network took the good connection',
  )
  t.is(network.inboundErrors, 1)
})
