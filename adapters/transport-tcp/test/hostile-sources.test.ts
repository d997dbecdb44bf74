import { once } from 'node:events'
import type { Socket } from 'node:net'
import { startNetwork } from '@peerkit/compliance'
import { defineProtocol, Identity, type Network, RealClock } from '@peerkit/core'
import { Mux } from '@peerkit/core/wire'
import test from 'ava'
import { z } from 'zod'
import { type TcpTransportOptions, tcpTransport } from '../src/index.js'
import { closed, rawDial, socketFrom } from './helpers/hostile.js'
import { makeTransport, within } from './helpers/index.js'

// Attacks on a listener's slots from a few source addresses (issue 17, item 3). Attackers use
// 127.0.1.x and 127.0.2.x (other /24s of the loopback net); honest peers dial from 127.0.0.1.

const PING = defineProtocol('peerkit/test-ping/1', z.object({ n: z.number() }), z.object({ n: z.number() }))

async function victim(t: Parameters<typeof startNetwork>[0], tcp: TcpTransportOptions, network = {}) {
  const net = await startNetwork(t, {
    config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'], network },
    transports: tcpTransport(tcp),
  })
  net.handle(PING, ({ n }) => ({ n: n + 1 }))
  const refused: Error[] = []
  net.on('inbound:error', (err) => {
    if (err.name === 'RateLimitError') refused.push(err)
  })
  return { net, address: net.addresses()[0] as string, refused }
}

/** An honest peer dials the victim and gets an answer. */
async function honestPing(
  t: Parameters<typeof makeTransport>[0],
  net: Network,
  address: string,
): Promise<void> {
  const { transport } = makeTransport(t)
  const conn = await within(transport.dial(address), 'honest dial')
  const mux = new Mux(conn, new RealClock())
  const answer = await mux.request(PING, { n: 1 }, { timeout: 5000 })
  if (answer.n !== 2) throw new Error(`bad answer ${answer.n} from ${net.peerId}`)
  await conn.close()
}

// Serial: it bounds this process's RSS, which tests running beside it would move too.
test.serial(
  'silent sockets from one /24, reopened as they close, take at most its handshake slots; every honest dial gets through',
  async (t) => {
    // A quarter of the defaults (maxHandshakes 128, per subnet 64, per address 32), so the attack stays cheap beside
    // CPU burners; the hosts test mounts it at full size against a real node.
    const limits = { maxHandshakes: 32, maxHandshakesPerSubnet: 16, maxHandshakesPerAddress: 8 }
    const { net, address, refused } = await victim(t, { handshakeTimeout: 1500, ...limits })
    const rssBefore = process.memoryUsage().rss
    const attackers = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4', '127.0.1.5']
    let stop = false
    let opened = 0
    const open = new Set<Socket>()
    const keepOpening = async (from: string) => {
      while (!stop) {
        const socket = await socketFrom(address, from).catch(() => undefined) // a refused connect is the limit at work: try again
        if (!socket) continue
        if (stop) {
          socket.destroy() // connected after the attack ended: nothing left to wait for
          break
        }
        opened++
        open.add(socket)
        // Silent: it never sends a byte; when the victim drops it, it is opened again.
        await once(socket, 'close')
        open.delete(socket)
      }
    }
    // As many silent sockets at a time as the listener's whole tcp.maxHandshakes, from five addresses of one /24.
    const loops = Array.from({ length: limits.maxHandshakes }, (_, i) =>
      keepOpening(attackers[i % attackers.length] as string),
    )
    t.teardown(() => {
      stop = true
      for (const s of open) s.destroy()
    })
    await within(
      (async () => {
        while (refused.length < limits.maxHandshakesPerSubnet) await new Promise((r) => setTimeout(r, 10))
      })(),
      'the attack reaching the per-subnet limit',
    )
    // While the attack goes on, 12 honest dials from 127.0.0.1 (each runs a whole handshake and a request).
    const honest = 12
    const results = await Promise.allSettled(
      Array.from({ length: honest }, () => honestPing(t, net, address)),
    )
    const failed = results.filter((r) => r.status === 'rejected')
    stop = true
    for (const s of open) s.destroy()
    await within(Promise.all(loops), 'the attacker loops ending')
    t.log(
      `attacker opened ${opened} sockets, ${refused.length} refused at once; honest: ${honest - failed.length}/${honest}`,
    )
    t.deepEqual(failed, [], 'every honest dial succeeded during the attack')
    t.true(
      refused.length >= limits.maxHandshakesPerSubnet,
      'sockets beyond the /24 limit were refused at once',
    )
    t.true(
      refused.every((e) => /tcp\.maxHandshakesPer(Address|Subnet)/.test(e.message)),
      'refused for the per-source limits',
    )
    t.is(net.inboundErrors >= refused.length, true)
    // The victim (this process) held at most maxHandshakesPerSubnet of the attacker's handshakes at a time: its memory barely moved.
    const grew = process.memoryUsage().rss - rssBefore
    t.log(`RSS grew by ${(grew / 1048576).toFixed(1)} MiB`)
    t.true(grew < 160 * 1024 * 1024, `RSS grew by ${grew} bytes`)
  },
)

test('one key cannot hold more than network.maxConnectionsPerPeer connections; others still connect', async (t) => {
  const { net, address, refused } = await victim(t, {}, { maxConnectionsPerPeer: 4 })
  const identity = Identity.generate()
  const conns = await Promise.all(Array.from({ length: 40 }, () => rawDial(t, address, { identity })))
  await within(
    (async () => {
      while (refused.length < 36) await new Promise((r) => setTimeout(r, 10))
    })(),
    '36 connections refused',
  )
  // What the attacker kept: the sockets the victim did not close.
  const settled = await Promise.all(
    conns.map((c) =>
      closed(c.socket, 'refused connection', 300).then(
        () => 'closed',
        () => 'open',
      ),
    ),
  )
  const kept = settled.filter((s) => s === 'open').length
  t.log(`one key dialed 40 connections: ${kept} kept, ${refused.length} refused`)
  t.is(kept, 4)
  t.true(refused.every((e) => /network\.maxConnectionsPerPeer 4/.test(e.message)))
  await honestPing(t, net, address)
})

test('one address cannot hold more than tcp.maxConnectionsPerAddress established connections', async (t) => {
  const { net, address, refused } = await victim(t, {
    maxConnectionsPerAddress: 5,
    maxConnectionsPerSubnet: 8,
  })
  const from = (i: number) => `127.0.2.${i < 10 ? 1 : 2 + (i % 3)}`
  const conns = await Promise.all(
    Array.from({ length: 16 }, (_, i) => rawDial(t, address, { from: from(i) })),
  )
  const settled = await Promise.all(
    conns.map((c) =>
      closed(c.socket, 'refused connection', 500).then(
        () => 'closed',
        () => 'open',
      ),
    ),
  )
  const kept = settled.filter((s) => s === 'open').length
  t.log(`16 keys from 127.0.2.x: ${kept} kept, ${refused.length} refused`)
  t.is(kept, 8, 'the /24 holds 8 at most, of which 127.0.2.1 at most 5')
  t.is(refused.length, 8)
  t.true(refused.some((e) => /tcp\.maxConnectionsPerAddress/.test(e.message)))
  t.true(refused.some((e) => /tcp\.maxConnectionsPerSubnet/.test(e.message)))
  await honestPing(t, net, address)
})
