/**
 * A peer abusing a relay, run inside a namespace by nat-attack.test.ts:
 * `node relay-attacker.js HOST PORT RESERVATIONS DIALBACK_PORT`. It opens
 * RESERVATIONS reservations, each with a fresh identity, then asks the relay,
 * on the first that stood, to dial back DIALBACK_PORT. It prints one JSON line
 * once every answer is in, and holds its reservations until it is killed.
 */
import 'reflect-metadata'
import { Identity, RealClock } from '@peerkit/core'
import { connectSocket, relayWire, secure } from '@peerkit/nat'
import { parseTcpTransportOptions } from '@peerkit/transport-tcp'

const [host = '', portText = '', countText = '', dialbackText = ''] = process.argv.slice(2)
const port = Number(portText)
const clock = new RealClock()
const tcp = parseTcpTransportOptions({ handshakeTimeout: 5000 })

type Outcome = { reserved: boolean; conn?: Awaited<ReturnType<typeof secure>> }

async function reserve(): Promise<Outcome> {
  const socket = await connectSocket({ host, port, clock, timeout: 5000, what: 'attacker' })
  socket.write(relayWire.preface(relayWire.Kind.reserve, {}))
  const conn = await secure(socket, 'initiator', 'direct', {
    identity: Identity.generate(),
    tcp,
    clock,
    address: `tcp://${host}:${port}`,
  })
  return new Promise((resolve) => {
    conn.once('message', (m) => {
      const msg = relayWire.decode(relayWire.controlMessage, m, 'relay')
      resolve({ reserved: msg.t === 'reserved', conn })
    })
    conn.once('close', () => resolve({ reserved: false }))
  })
}

const outcomes: Outcome[] = []
for (let i = 0; i < Number(countText); i++) outcomes.push(await reserve().catch(() => ({ reserved: false })))
const held = outcomes.find((o) => o.reserved && o.conn && !o.conn.closed)
let dialback: unknown
if (held?.conn) {
  const conn = held.conn
  dialback = await new Promise((resolve) => {
    conn.on('message', (m) => {
      const msg = relayWire.decode(relayWire.controlMessage, m, 'relay')
      if (msg.t === 'dialback-result') resolve(msg)
    })
    void conn.send(relayWire.encode({ t: 'dialback', ports: [Number(dialbackText)] }))
  })
}
const reserved = outcomes.filter((o) => o.reserved && o.conn && !o.conn.closed).length
process.stdout.write(`${JSON.stringify({ reserved, refused: outcomes.length - reserved, dialback })}\n`)
setInterval(() => {}, 60_000) // holds the reservations until killed
