import { encode, frameHeader, Kind } from '@peerkit/core/wire'
import { TRANSFER_PROTOCOL } from '@peerkit/transfer'
import test from 'ava'
import { downloadFrom, find, honestPeer, LONG, rss, victimNode, watchRss } from './helpers/attack-node.js'
import { WireAttacker } from './helpers/attack-wire.js'

// Issue 17, item 2: memory a peer makes a real `peerkit node` hold, measured as the process's RSS.
// Before the fix: 24,608 unread chunk answers took a node from 75 MB to 1.5 GB (still 1.5 GB after
// the connection closed); 300 connections each holding a 4 MiB message but one byte took it to 1.6 GB.
// Serial: each test measures one process's RSS, and two attacks at once would blur both figures.

const MB = 1024 * 1024
const frames = (...messages: Uint8Array[]) =>
  Buffer.concat(messages.flatMap((m) => [frameHeader(m.length), m]))

test.serial(
  'chunk requests whose answers are never read: RSS stays bounded, the connection is closed, an honest download succeeds',
  async (t) => {
    const requests = LONG ? 100_000 : 25_000
    const { proc, fileName } = await victimNode(t, {
      config: { network: { sendStallTimeout: 3000 } },
    })
    const pid = proc.child.pid as number
    const honest = await honestPeer(t, proc.address)
    const hash = await find(honest, fileName)
    const before = await rss(pid)
    const watch = watchRss(pid)
    t.teardown(() => watch.stop())
    const attacker = await WireAttacker.dial(proc.address)
    t.teardown(() => attacker.destroy())
    const request = (i: number) =>
      encode([
        Kind.Request,
        i + 1,
        TRANSFER_PROTOCOL.name,
        { op: 'chunk', hash, index: i % 128, offset: 0, length: 64 * 1024 },
      ])
    // Paced as the original attack was (24,608 in 14 s): 64 at a time (transfer.maxServingPerPeer), so
    // each batch is served and its answers pile up behind the unread socket. A write that the node no
    // longer reads waits until the node closes the connection.
    let sent = 0
    const attack = (async () => {
      for (; sent < requests && !attacker.socket.destroyed; sent += 64) {
        await attacker.write(frames(...Array.from({ length: 64 }, (_, k) => request(sent + k))))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    // During the attack, an honest download of the whole file from the victim.
    const [bytes, closed] = await Promise.all([
      downloadFrom(t, honest, proc, hash),
      // Read (to see the close) only once the attack is over: reading would drain what the node holds.
      attack.then(() => attacker.closedWithin(60_000)),
    ])
    watch.stop()
    const after = await rss(pid)
    t.log(
      `${sent} of ${requests} requests sent: RSS ${(before / MB).toFixed(0)} MB → peak ${(watch.peak / MB).toFixed(0)} MB → ${(after / MB).toFixed(0)} MB after; attacker closed: ${closed}`,
    )
    t.true(closed, 'the node closed the connection of the peer that never reads')
    t.true(sent < requests, 'the node stopped reading its requests before they were all sent')
    t.true(watch.peak - before < 200 * MB, `peak grew by ${((watch.peak - before) / MB).toFixed(0)} MB`)
    t.true(
      after - before < 200 * MB,
      `after the close, ${((after - before) / MB).toFixed(0)} MB more than before`,
    )
    t.is(bytes, 8 * MB, 'the honest download is whole')
    t.true(proc.running)
  },
)

test.serial(
  'connections that each hold a 4 MiB message but one byte: the budget closes the costliest, RSS stays bounded',
  async (t) => {
    const connections = LONG ? 300 : 100
    const budget = 64 * MB
    const { proc, fileName } = await victimNode(t, {
      config: { network: { memoryBudget: budget }, options: { tcp: { messageTimeout: 3000 } } },
    })
    const pid = proc.child.pid as number
    const honest = await honestPeer(t, proc.address)
    const hash = await find(honest, fileName)
    const before = await rss(pid)
    const watch = watchRss(pid)
    t.teardown(() => watch.stop())
    const size = 4 * MB
    const partial = Buffer.concat([frameHeader(size), Buffer.alloc(size - 1)])
    const attackers: WireAttacker[] = []
    t.teardown(() => {
      for (const a of attackers) a.destroy()
    })
    for (let i = 0; i < connections; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, connections - i) }, () => WireAttacker.dial(proc.address)),
      )
      attackers.push(...batch)
      await Promise.all(batch.map((a) => a.write(partial)))
    }
    const [bytes, closed] = await Promise.all([
      downloadFrom(t, honest, proc, hash),
      Promise.all(attackers.map((a) => a.closedWithin(30_000))),
    ])
    watch.stop()
    const after = await rss(pid)
    const dropped = closed.filter(Boolean).length
    t.log(
      `${connections} × ${size - 1} bytes (${((connections * size) / MB).toFixed(0)} MB held back): RSS ${(before / MB).toFixed(0)} MB → peak ${(watch.peak / MB).toFixed(0)} MB → ${(after / MB).toFixed(0)} MB after; ${dropped} connections closed`,
    )
    t.is(dropped, connections, 'every connection was closed (budget or tcp.messageTimeout)')
    t.true(
      watch.peak - before < budget + 200 * MB,
      `peak grew by ${((watch.peak - before) / MB).toFixed(0)} MB`,
    )
    t.true(
      after - before < budget + 200 * MB,
      `after, ${((after - before) / MB).toFixed(0)} MB more than before`,
    )
    t.is(bytes, 8 * MB, 'the honest download is whole')
    t.true(proc.running)
  },
)
