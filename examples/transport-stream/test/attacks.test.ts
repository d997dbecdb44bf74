import { type Connection, Identity, RealClock } from '@peerkit/core'
import test from 'ava'
import { WebSocket } from 'ws'
import { parseStreamTransportOptions, StreamTransport } from '../src/index.js'

const SILENT = 60
const MAX_HANDSHAKES = 8
const HANDSHAKE_TIMEOUT = 800

/** Resolves when `probe` holds, checking every 20 ms; rejects after `ms`. */
async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('WebSockets that never handshake hold at most maxHandshakes slots, each for handshakeTimeout; honest peers then get in', async (t) => {
  const options = parseStreamTransportOptions({
    maxHandshakes: MAX_HANDSHAKES,
    handshakeTimeout: HANDSHAKE_TIMEOUT,
  })
  const server = new StreamTransport(Identity.generate(), new RealClock(), options)
  const honest = Identity.generate()
  const client = new StreamTransport(honest, new RealClock(), options)
  t.teardown(() => Promise.all([server.close(), client.close()]).then(() => {}))
  const listener = await server.listen('ws://127.0.0.1:0')
  const address = listener.addresses()[0] as string
  const errors: string[] = []
  listener.on('error', (err) => errors.push(err.name))
  let most = 0
  const watch = setInterval(() => {
    most = Math.max(most, listener.pendingHandshakes)
  }, 5)
  t.teardown(() => clearInterval(watch))

  // The attacker: plain WebSocket clients that upgrade and then say nothing.
  const silent = Array.from({ length: SILENT }, () => new WebSocket(address))
  const closed = silent.map(
    (ws) =>
      new Promise<void>((resolve) => {
        ws.on('error', () => resolve()) // a refused upgrade: counted by the listener's errors below
        ws.on('close', () => resolve())
      }),
  )
  t.teardown(() => {
    for (const ws of silent) ws.terminate()
  })
  const began = Date.now()
  await until(() => errors.length >= SILENT - MAX_HANDSHAKES, 5000, 'the refusals')
  t.true(most <= MAX_HANDSHAKES, `${most} handshakes ran at once`)
  t.true(errors.filter((e) => e === 'RateLimitError').length >= SILENT - MAX_HANDSHAKES)

  // Every silent socket is closed: the refused at once, the admitted at handshakeTimeout.
  await Promise.race([
    Promise.all(closed),
    new Promise((_, reject) => setTimeout(() => reject(new Error('silent sockets still open')), 5000)),
  ])
  t.true(Date.now() - began < HANDSHAKE_TIMEOUT + 4000)
  t.is(listener.pendingHandshakes, 0)

  // What the attacker got: no connection; an honest dialer gets one and is heard.
  const accepted: Connection[] = []
  listener.on('connection', (conn) => accepted.push(conn))
  const conn = await client.dial(address)
  await until(() => accepted.length === 1, 5000, 'the honest connection')
  const heard = new Promise<string>((resolve) =>
    accepted[0]?.on('message', (m) => resolve(Buffer.from(m).toString())),
  )
  await conn.send(Buffer.from('hello'))
  t.is(await heard, 'hello')
  t.is(accepted[0]?.remotePeer, honest.peerId)
})
