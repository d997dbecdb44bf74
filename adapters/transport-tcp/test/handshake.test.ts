import { getEventListeners } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import test, { type ExecutionContext } from 'ava'
import { type HandshakeOptions, handshake, PROTOCOL } from '../src/secure.js'
import { listen, ManualClock, makeTransport, next, pair, pause, rawSocket, within } from './helpers/index.js'

/** Two connected plain sockets. */
async function socketPair(t: ExecutionContext): Promise<[Socket, Socket]> {
  const server = createServer()
  t.teardown(() => server.close())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const client = await rawSocket(t, `tcp://127.0.0.1:${(server.address() as { port: number }).port}`)
  const inbound = await accepted
  t.teardown(() => inbound.destroy())
  return [client, inbound]
}

function options(role: HandshakeOptions['role'], identity: Identity, extra: Partial<HandshakeOptions> = {}) {
  return {
    role,
    identity,
    cipher: 'aes-256-gcm',
    offload: true,
    clock: new RealClock(),
    timeout: 5000,
    address: 'tcp://test',
    ...extra,
  } as HandshakeOptions
}

/** Claims `claimed`'s public key but signs with another key. */
function forge(claimed: Identity): Identity {
  const actual = Identity.generate()
  return {
    peerId: claimed.peerId,
    publicKey: claimed.publicKey,
    sign: (d: Uint8Array) => actual.sign(d),
  } as Identity
}

test('both sides prove their PeerIds and derive matching keys (the dialer picks the cipher)', async (t) => {
  const [a, b] = await socketPair(t)
  const alice = Identity.generate()
  const bob = Identity.generate()
  const [ra, rb] = await within(
    Promise.all([
      handshake(a, options('initiator', alice, { cipher: 'chacha20-poly1305', expectedPeer: bob.peerId })),
      handshake(b, options('responder', bob)),
    ]),
    'handshake',
  )
  t.is(ra.remotePeer, bob.peerId)
  t.is(rb.remotePeer, alice.peerId)
  t.is(ra.cipher, 'chacha20-poly1305')
  t.is(rb.cipher, 'chacha20-poly1305')
  const plaintext = new Uint8Array(5000).fill(9)
  const sealed = Buffer.concat(await ra.sender.seal([plaintext], plaintext.length))
  t.deepEqual(Buffer.from(await rb.receiver.open(sealed.subarray(4))), Buffer.from(plaintext))
  const back = Buffer.concat(await rb.sender.seal([plaintext], plaintext.length))
  t.deepEqual(Buffer.from(await ra.receiver.open(back.subarray(4))), Buffer.from(plaintext))
  t.true(a.isPaused() && b.isPaused(), 'sockets are left paused for the connection')
})

test('a peer that sends someone else’s public key but cannot sign is refused with AuthenticationError', async (t) => {
  const [a, b] = await socketPair(t)
  const victim = Identity.generate()
  const [, honest] = await Promise.allSettled([
    handshake(a, options('initiator', forge(victim))),
    handshake(b, options('responder', Identity.generate())),
  ])
  t.is(honest.status, 'rejected')
  t.is((honest as PromiseRejectedResult).reason.name, 'AuthenticationError')
  t.regex((honest as PromiseRejectedResult).reason.message, new RegExp(`claimed to be ${victim.peerId}`))
  t.true(b.destroyed)
})

test('an unexpected PeerId answering a dial is an AuthenticationError naming both', async (t) => {
  const [a, b] = await socketPair(t)
  const expected = Identity.generate().peerId
  const bob = Identity.generate()
  const [dial] = await Promise.allSettled([
    handshake(a, options('initiator', Identity.generate(), { expectedPeer: expected })),
    handshake(b, options('responder', bob)),
  ])
  t.is(dial.status, 'rejected')
  const err = (dial as PromiseRejectedResult).reason as Error
  t.is(err.name, 'AuthenticationError')
  t.true(err.message.includes(expected) && err.message.includes(bob.peerId))
})

test('garbage instead of a hello is a ProtocolError at once, and the listener goes on', async (t) => {
  const { transport } = makeTransport(t)
  const { listener, address } = await listen(transport)
  const error = next<Error>(listener, 'error')
  const socket = await rawSocket(t, address)
  socket.write('GET / HTTP/1.1\r\nHost: example\r\n\r\n')
  const err = await error
  t.is(err.name, 'ProtocolError')
  t.regex(err.message, new RegExp(`expected a ${PROTOCOL} hello`))
  await within(new Promise((resolve) => socket.once('close', resolve)), 'garbage socket closed')
  const { transport: dialer, identity } = makeTransport(t)
  const ok = await pair(dialer, listener, address)
  t.is(ok.inbound.remotePeer, identity.peerId)
})

test('a hello of the right size but another protocol is a ProtocolError', async (t) => {
  const { transport } = makeTransport(t)
  const { listener, address } = await listen(transport)
  const error = next<Error>(listener, 'error')
  const socket = await rawSocket(t, address)
  const body = Buffer.alloc(46, 1)
  socket.write(Buffer.concat([frameHeader(body.length), body]))
  t.regex((await error).message, /does not speak peerkit-tcp\/1/)
})

test('garbage inside the handshake (after a valid hello) is a ProtocolError', async (t) => {
  const [a, b] = await socketPair(t)
  const responder = handshake(b, options('responder', Identity.generate()))
  // A real hello from a real initiator, then a broken auth record.
  const initiator = handshake(a, options('initiator', Identity.generate(), { timeout: 60_000 }))
  initiator.catch(() => {}) // the initiator fails too once the responder gives up; the test asserts on the responder
  // Corrupt what the initiator sends after its hello: its auth record's ciphertext.
  const write = a.write.bind(a)
  a.write = ((chunk: Uint8Array, ...rest: never[]) => {
    return write(Buffer.from(chunk).fill(7, 4), ...rest)
  }) as typeof a.write
  const err = await within(
    responder.then(
      () => undefined,
      (e: Error) => e,
    ),
    'responder',
  )
  t.is(err?.name, 'ProtocolError')
  t.regex(err?.message ?? '', /failed authentication/)
})

test('beyond maxHandshakes in progress a new connection is closed at once with RateLimitError; the listener goes on', async (t) => {
  const { transport } = makeTransport(t, { maxHandshakes: 2 })
  const { listener, address } = await listen(transport)
  const errors: Error[] = []
  listener.on('error', (e) => errors.push(e))
  // Two silent sockets hold both handshake slots.
  const silent = [await rawSocket(t, address), await rawSocket(t, address)]
  const third = await rawSocket(t, address)
  await within(new Promise((resolve) => third.once('close', resolve)), 'third socket closed')
  await within(
    (async () => {
      while (errors.length === 0) await pause(5)
    })(),
    'listener error',
  )
  t.is(errors[0]?.name, 'RateLimitError')
  t.regex(errors[0]?.message ?? '', /2 handshakes already in progress \(tcp\.maxHandshakes\)/)
  t.false(
    silent.some((s) => s.destroyed),
    'the sockets in their handshake are kept',
  )
  // A slot frees up: a real dial gets through.
  silent[0]?.destroy()
  await within(
    (async () => {
      while (errors.length < 2) await pause(5)
    })(),
    'the abandoned handshake is reported',
  )
  const { transport: dialer, identity } = makeTransport(t)
  const ok = await pair(dialer, listener, address)
  t.is(ok.inbound.remotePeer, identity.peerId)
})

test('a handshake that does not finish in time fails with TimeoutError on the injected clock', async (t) => {
  const clock = new ManualClock()
  const { transport } = makeTransport(t, { handshakeTimeout: 3000 }, undefined, clock)
  const { listener, address } = await listen(transport)
  let error: Error | undefined
  listener.on('error', (e) => {
    error = e
  })
  const socket = await rawSocket(t, address)
  const closed = new Promise((resolve) => socket.once('close', resolve))
  await within(
    (async () => {
      while (clock.pending === 0) await pause(5)
    })(),
    'handshake timer set',
  )
  clock.advance(2999) // the manual clock runs what is due at once, in advance()
  await new Promise((resolve) => setImmediate(resolve))
  t.is(error, undefined, 'not before the timeout')
  clock.advance(1)
  await within(
    (async () => {
      while (!error) await pause(5)
    })(),
    'listener error',
  )
  t.is(error?.name, 'TimeoutError')
  await within(closed, 'silent socket closed')
})

test('aborting a dial whose handshake hangs rejects with AbortError and destroys the socket', async (t) => {
  const server = createServer()
  const sockets: Socket[] = []
  server.on('connection', (s) => sockets.push(s)) // accepts, then says nothing
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { transport } = makeTransport(t)
  const controller = new AbortController()
  const dial = transport.dial(`tcp://127.0.0.1:${(server.address() as { port: number }).port}`, {
    signal: controller.signal,
  })
  await within(
    (async () => {
      while (sockets.length === 0) await pause(5)
    })(),
    'accepted',
  )
  const peerSide = sockets[0] as Socket
  const closed = new Promise((resolve) => peerSide.once('close', resolve))
  peerSide.resume()
  controller.abort()
  await t.throwsAsync(within(dial, 'dial'), { name: 'AbortError' })
  await within(closed, 'the dialing socket was destroyed')
  t.pass()
})

test('many dials on one signal put one listener on it, connected or aborted, and leave none', async (t) => {
  const n = 20
  // Dials that connect: each one's callback leaves the signal when its handshake is done.
  const { transport } = makeTransport(t)
  const { transport: remote } = makeTransport(t)
  const { address } = await listen(remote)
  const kept = new AbortController()
  const conns = await within(
    Promise.all(Array.from({ length: n }, () => transport.dial(address, { signal: kept.signal }))),
    'dials',
  )
  t.is(conns.length, n)
  t.is(getEventListeners(kept.signal, 'abort').length, 0)
  // Dials whose handshakes hang (the server accepts and says nothing) until the signal aborts.
  const server = createServer()
  const sockets: Socket[] = []
  let allAccepted: () => void = () => {}
  const accepted = new Promise<void>((resolve) => (allAccepted = resolve))
  server.on('connection', (s) => {
    s.resume()
    if (sockets.push(s) === n) allAccepted()
  })
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const silent = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`
  const dropped = new AbortController()
  const hanging = Array.from({ length: n }, () => transport.dial(silent, { signal: dropped.signal }))
  await within(accepted, 'accepted')
  t.is(getEventListeners(dropped.signal, 'abort').length, 1)
  dropped.abort()
  for (const dial of hanging) await t.throwsAsync(within(dial, 'dial'), { name: 'AbortError' })
  t.is(getEventListeners(dropped.signal, 'abort').length, 0)
})
