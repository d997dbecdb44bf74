import { cpuUsage } from 'node:process'
import { startNetwork } from '@peerkit/compliance'
import { defineProtocol, type PeerConfigInput, RealClock } from '@peerkit/core'
import { decode, encode, frameHeader, IDENTIFY, Kind, Mux } from '@peerkit/core/wire'
import test, { type ExecutionContext } from 'ava'
import { z } from 'zod'
import { type TcpTransportOptions, tcpTransport } from '../src/index.js'
import { closed, type RawPeer, rawDial } from './helpers/hostile.js'
import { makeTransport, within } from './helpers/index.js'

// Hostile messages over real TCP (issue 17, items 2 and 4): answers never read, messages never
// finished, protocols never spoken, collections too large, maps keyed by what a remote sends.

const BLOB = defineProtocol(
  'peerkit/test-blob/1',
  z.object({ n: z.number() }),
  z.object({ data: z.instanceof(Uint8Array) }),
)
const ANSWER = 64 * 1024

async function victim(
  t: ExecutionContext,
  network: NonNullable<PeerConfigInput['network']> = {},
  tcp: TcpTransportOptions = {},
) {
  const net = await startNetwork(t, {
    config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'], network },
    transports: tcpTransport(tcp),
  })
  let served = 0
  net.handle(BLOB, () => {
    served++
    return { data: new Uint8Array(ANSWER) }
  })
  const limits: Error[] = []
  net.on('connection:limit', (err) => limits.push(err))
  return { net, address: net.addresses()[0] as string, limits, served: () => served }
}

/** An honest peer asks for a blob and gets it. */
async function honest(t: ExecutionContext, address: string): Promise<void> {
  const { transport } = makeTransport(t)
  const conn = await within(transport.dial(address), 'honest dial')
  const res = await new Mux(conn, new RealClock()).request(BLOB, { n: 1 }, { timeout: 5000 })
  if (res.data.length !== ANSWER) throw new Error('short answer')
  await conn.close()
}

function frames(...messages: Uint8Array[]): Uint8Array {
  return Buffer.concat(messages.flatMap((m) => [frameHeader(m.length), m]))
}

function waitUntil(what: string, done: () => boolean, ms?: number): Promise<void> {
  return within(
    (async () => {
      while (!done()) await new Promise((r) => setTimeout(r, 5))
    })(),
    what,
    ms,
  )
}

test('a peer that never reads its answers gets its reading paused, then its connection closed; memory comes back', async (t) => {
  const { net, address, limits, served } = await victim(t, {
    maxSendQueue: 1024 * 1024,
    sendStallTimeout: 1000,
  })
  const attacker = await rawDial(t, address)
  // 20,000 requests for 64 KiB answers (1.25 GB of answers), and not one byte read.
  const requests = Array.from({ length: 20_000 }, (_, i) =>
    encode([Kind.Request, i + 1, BLOB.name, { n: i }]),
  )
  await attacker.write(frames(...requests))
  let peak = 0
  const sample = setInterval(() => {
    peak = Math.max(peak, net.memoryUsed)
  }, 5)
  t.teardown(() => clearInterval(sample))
  await waitUntil('the victim pausing', () => served() > 0)
  await honest(t, address) // served while the attack holds its connection
  await waitUntil('the connection closed for its stalled answers', () => limits.length > 0)
  clearInterval(sample)
  await closed(attacker.socket)
  t.log(`answered ${served()} of 20,000 requests; peak ${peak} bytes accounted; ${limits[0]?.message}`)
  t.is(limits[0]?.name, 'RateLimitError')
  t.regex(limits[0]?.message ?? '', /network\.(sendStallTimeout|maxSendQueue)/)
  t.true(served() < 400, `the attacker got ${served()} answers prepared, not 20,000`)
  // Bounded by the transport's buffer (4 MiB), a half-full send queue, and a record being read.
  t.true(peak < 8 * 1024 * 1024, `peak ${peak}`)
  await waitUntil('memory returned', () => net.memoryUsed === 0)
  await honest(t, address)
})

/** `peer` sends all of a message of `size` bytes but the last byte. */
async function partial(peer: RawPeer, size: number): Promise<void> {
  const header = frameHeader(size)
  await peer.write(Buffer.concat([header, new Uint8Array(size - 1)]))
}

test('messages never finished: the node-wide budget closes the costliest connections, the deadline the rest', async (t) => {
  const budget = 16 * 1024 * 1024
  const { net, address, limits } = await victim(t, { memoryBudget: budget }, { messageTimeout: 1500 })
  const errors: Error[] = []
  const peers = await Promise.all(Array.from({ length: 12 }, () => rawDial(t, address)))
  let peak = 0
  const sample = setInterval(() => {
    peak = Math.max(peak, net.memoryUsed)
  }, 2)
  t.teardown(() => clearInterval(sample))
  net.on('connection:limit', (err) => errors.push(err))
  // 12 × (4 MiB − 1) = 48 MiB held back, three times the budget.
  await Promise.all(peers.map((p) => partial(p, 4 * 1024 * 1024)))
  await waitUntil('some closed for the budget', () => limits.some((e) => e.name === 'RateLimitError'))
  await honest(t, address)
  await Promise.all(peers.map((p) => closed(p.socket, 'every attacker closed')))
  clearInterval(sample)
  const byBudget = limits.filter((e) => /network\.memoryBudget/.test(e.message)).length
  const byDeadline = limits.filter((e) => /tcp\.messageTimeout/.test(e.message)).length
  t.log(`peak ${peak} bytes accounted; ${byBudget} closed for the budget, ${byDeadline} for the deadline`)
  t.true(byBudget >= 8, 'the budget holds about 4 such connections')
  t.is(byBudget + byDeadline, 12)
  // A record (1 MiB) may land before its report: the bound is the budget plus one record per connection.
  t.true(peak <= budget + 12 * 1024 * 1024, `peak ${peak}`)
  await waitUntil('memory returned', () => net.memoryUsed === 0)
})

test('a message for a protocol never spoken here closes the connection, and the sender is told why', async (t) => {
  const { address, limits } = await victim(t)
  const attacker = await rawDial(t, address)
  attacker.socket.resume()
  const plain: Buffer[] = []
  // Read what the victim sends back: records are opened with the attacker's receiver.
  let buffered = Buffer.from(attacker.result.leftover)
  attacker.socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const body = buffered.subarray(4, 4 + buffered.readUInt32BE(0))
      buffered = buffered.subarray(4 + body.length)
      const opened = attacker.result.receiver.open(body) // inline (no offload): never a promise here
      if (opened instanceof Uint8Array) plain.push(Buffer.from(opened))
    }
  })
  await attacker.write(frames(encode([Kind.Message, 'peerkit/nonsense/1', {}])))
  await closed(attacker.socket)
  const messages = plain.flatMap((p) => {
    const out: unknown[] = []
    for (let off = 0; off < p.length; ) {
      const n = p.readUInt32BE(off)
      out.push(decode(p.subarray(off + 4, off + 4 + n)))
      off += 4 + n
    }
    return out
  })
  const told = messages.find((m) => Array.isArray(m) && m[0] === Kind.Error && m[1] === 0) as
    | [number, number, { name: string; message: string }]
    | undefined
  t.is(told?.[2].name, 'ProtocolError')
  t.regex(told?.[2].message ?? '', /peerkit\/nonsense\/1/)
  t.is(limits[0]?.name, 'ProtocolError')
  await honest(t, address)
})

test('requests for protocols never spoken here are refused, and past network.maxUnknownRequests the connection closes', async (t) => {
  const { address, limits } = await victim(t, { maxUnknownRequests: 4 })
  const { transport } = makeTransport(t)
  const conn = await within(transport.dial(address), 'dial')
  const mux = new Mux(conn, new RealClock())
  const UNKNOWN = defineProtocol('peerkit/unknown-here/1', z.object({}), z.object({}))
  const answers = await Promise.all(
    Array.from({ length: 8 }, () =>
      mux.request(UNKNOWN, {}, { timeout: 5000 }).then(
        () => 'answered',
        (err: Error) => err.name,
      ),
    ),
  )
  t.log(answers.join(', '))
  t.is(answers.filter((a) => a === 'UnsupportedProtocolError').length, 5, 'refused, then closed on the fifth')
  t.true(answers.slice(5).every((a) => a === 'PeerUnreachableError' || a === 'ProtocolError'))
  await within(
    new Promise((resolve) => (conn.closed ? resolve(undefined) : conn.once('close', resolve))),
    'closed',
  )
  t.is(limits[0]?.name, 'ProtocolError')
  t.regex(limits[0]?.message ?? '', /network\.maxUnknownRequests/)
  await honest(t, address)
})

// Serial: it measures this process's CPU, which concurrent tests would add to.
test.serial(
  'four million empty maps are refused unread (decoding them took about 1 s of CPU) and close the connection',
  async (t) => {
    const { address, limits } = await victim(t)
    const attacker = await rawDial(t, address)
    const body = new Uint8Array(4 * 1024 * 1024 - 32).fill(0x80)
    body[0] = 0xdd
    new DataView(body.buffer).setUint32(1, body.length - 5)
    // The envelope [Message, 'peerkit/test-blob/1', <4 million empty maps>], built by hand.
    const head = encode([Kind.Message, BLOB.name, 0]).subarray(0, -1)
    const message = Buffer.concat([head, body])
    const sealedBefore = cpuUsage()
    const wire = frames(message)
    await attacker.write(wire)
    const sent = cpuUsage(sealedBefore)
    const before = cpuUsage()
    await closed(attacker.socket)
    const used = cpuUsage(before)
    const ms = (used.user + used.system) / 1000
    t.log(
      `victim and test together: ${ms.toFixed(1)} ms of CPU after sending (sealing took ${((sent.user + sent.system) / 1000).toFixed(1)} ms)`,
    )
    t.true(ms < 500, `${ms} ms`)
    t.is(limits[0]?.name, 'ProtocolError')
    t.regex(limits[0]?.message ?? '', /network\.maxMessageItems/)
    await honest(t, address)
  },
)

test('fresh protocol names and identify from many keys leave bounded maps behind', async (t) => {
  const { net, address } = await victim(t, { maxKnownPeers: 50 })
  const ids: string[] = []
  const addresses = Array.from({ length: 16 }, (_, i) => `tcp://10.${i}.0.1:${'4'.repeat(4)}`)
  for (let round = 0; round < 10; round++) {
    const peers = await Promise.all(Array.from({ length: 10 }, () => rawDial(t, address)))
    for (const [i, p] of peers.entries()) {
      ids.push(p.identity.peerId)
      await p.write(
        frames(
          encode([Kind.Message, IDENTIFY.name, { addresses }]),
          encode([Kind.Message, `peerkit/fresh-${round}-${i}/1`, {}]),
        ),
      )
    }
    await Promise.all(peers.map((p) => closed(p.socket)))
  }
  const remembered = ids.filter((id) => net.addressesOf(id).length > 0).length
  const protocols = Object.keys(net.stats())
  t.log(`100 keys identified: ${remembered} remembered; protocols counted: ${protocols.join(', ')}`)
  t.is(remembered, 50)
  t.deepEqual(protocols.sort(), [IDENTIFY.name])
  t.is(net.peers().length, 0)
  await honest(t, address)
})
