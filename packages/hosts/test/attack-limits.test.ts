import { once } from 'node:events'
import type { Socket } from 'node:net'
import { Identity } from '@peerkit/core'
import { encode, frameHeader, IDENTIFY, Kind } from '@peerkit/core/wire'
import test from 'ava'
import { find, honestPeer, LONG, rss, victimNode, watchRss } from './helpers/attack-node.js'
import { silentSocket, WireAttacker } from './helpers/attack-wire.js'

// Issue 17, items 3 and 4 against a real `peerkit node`: handshake slots held by one attacker
// (before: 128 silent sockets got 146 of 147 honest dials refused), and maps keyed by what a
// remote sends (before: a million fresh protocol names left 306 MB, identify from 3,000 keys 41 MB).

const MB = 1024 * 1024

test.serial(
  '128 silent sockets from one /24, reopened as they close, leave honest peers their handshakes',
  async (t) => {
    const { proc, fileName } = await victimNode(t)
    const pid = proc.child.pid as number
    const before = await rss(pid)
    const watch = watchRss(pid)
    t.teardown(() => watch.stop())
    let stop = false
    /** Open attacker sockets and when each connected. */
    const open = new Map<Socket, number>()
    let opened = 0
    let refusedAtOnce = 0
    const keepOpening = async (from: string) => {
      while (!stop) {
        const socket = await silentSocket(proc.address, from).catch(() => undefined) // refused at connect: the victim's limit at work; try again
        if (!socket) continue
        if (stop) {
          socket.destroy()
          break
        }
        opened++
        const at = Date.now()
        open.set(socket, at)
        await once(socket, 'close')
        if (Date.now() - at < 1000) refusedAtOnce++
        open.delete(socket)
      }
    }
    t.teardown(() => {
      stop = true
      for (const s of open.keys()) s.destroy()
    })
    const from = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4']
    const loops = Array.from({ length: 128 }, (_, i) => keepOpening(from[i % from.length] as string))
    while (refusedAtOnce < 64) await new Promise((resolve) => setTimeout(resolve, 20))
    // Honest peers join through the victim (handshake, identify, a flooding join) and search it.
    const honest = LONG ? 40 : 12
    const results = await Promise.allSettled(
      Array.from({ length: honest }, async () => find(await honestPeer(t, proc.address), fileName)),
    )
    // A socket refused is closed within milliseconds; one still open after a second holds a handshake slot.
    const now = Date.now()
    const held = [...open.values()].filter((at) => now - at > 1000).length
    stop = true
    for (const s of open.keys()) s.destroy()
    await Promise.all(loops)
    watch.stop()
    const ok = results.filter((r) => r.status === 'fulfilled').length
    t.log(
      `attacker opened ${opened} sockets, ${refusedAtOnce} closed at once, ${held} open at the end; honest ${ok}/${honest}; RSS ${(before / MB).toFixed(0)} → peak ${(watch.peak / MB).toFixed(0)} MB`,
    )
    t.is(ok, honest, 'every honest peer joined and found the file during the attack')
    t.true(held <= 64, `the attacker held ${held} handshake slots, at most tcp.maxHandshakesPerSubnet (64)`)
    t.true(watch.peak - before < 100 * MB)
    t.true(proc.running)
  },
)

test.serial(
  'fresh protocol names and identify from fresh keys, one connection each: closed, and the maps stay bounded',
  async (t) => {
    const keys = LONG ? 5000 : 600
    const { proc, fileName } = await victimNode(t)
    const pid = proc.child.pid as number
    const honest = await honestPeer(t, proc.address)
    await find(honest, fileName)
    const before = await rss(pid)
    const watch = watchRss(pid)
    t.teardown(() => watch.stop())
    const addresses = Array.from(
      { length: 16 },
      (_, i) => `tcp://10.${i}.${'1'.repeat(3)}.1:${'4'.repeat(5)}`,
    )
    let closed = 0
    // 25 at a time: one address may run 32 handshakes at once (tcp.maxHandshakesPerAddress).
    for (let i = 0; i < keys; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, keys - i) }, () => WireAttacker.dial(proc.address)),
      )
      await Promise.all(
        batch.map(async (a, k) => {
          const messages = [
            encode([Kind.Message, IDENTIFY.name, { addresses }]),
            // One-way messages of 200 fresh protocol names: the first closes the connection.
            ...Array.from({ length: 200 }, (_, n) =>
              encode([Kind.Message, `peerkit/fresh-${i + k}-${n}/1`, {}]),
            ),
          ]
          await a.write(Buffer.concat(messages.flatMap((m) => [frameHeader(m.length), m])))
          if (await a.closedWithin(10_000)) closed++
          a.destroy()
        }),
      )
    }
    watch.stop()
    const after = await rss(pid)
    t.log(
      `${keys} keys × (identify + 200 fresh protocol names): ${closed} connections closed; RSS ${(before / MB).toFixed(0)} → peak ${(watch.peak / MB).toFixed(0)} → ${(after / MB).toFixed(0)} MB`,
    )
    t.is(closed, keys, 'each connection was closed at its first unknown protocol')
    t.true(after - before < 50 * MB, `RSS grew by ${((after - before) / MB).toFixed(0)} MB`)
    t.truthy(await find(honest, fileName), 'the honest peer still finds the file')
    t.true(proc.running)
  },
)

test.serial(
  'one key opening connection after connection keeps at most network.maxConnectionsPerPeer of them',
  async (t) => {
    const dials = LONG ? 3000 : 300
    const { proc, fileName } = await victimNode(t)
    const pid = proc.child.pid as number
    const before = await rss(pid)
    const identity = Identity.generate()
    const attackers: WireAttacker[] = []
    t.teardown(() => {
      for (const a of attackers) a.destroy()
    })
    let failed = 0
    // 25 at a time: one address may run 32 handshakes at once (tcp.maxHandshakesPerAddress).
    for (let i = 0; i < dials; i += 25) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(25, dials - i) }, () => WireAttacker.dial(proc.address, identity)),
      )
      for (const r of batch) {
        if (r.status === 'fulfilled') attackers.push(r.value)
        else failed++
      }
    }
    // Whatever the node refused it closed at once; what it kept stays open.
    const open = await Promise.all(attackers.map(async (a) => !(await a.closedWithin(2000))))
    const kept = open.filter(Boolean).length
    const honest = await honestPeer(t, proc.address)
    const found = await find(honest, fileName)
    const after = await rss(pid)
    t.log(
      `one key dialed ${dials} connections: ${kept} kept open, ${attackers.length - kept} closed after the handshake, ${failed} refused before it; RSS ${(before / MB).toFixed(0)} → ${(after / MB).toFixed(0)} MB`,
    )
    t.true(kept <= 8, `the key kept ${kept} connections`)
    t.truthy(found, 'an honest peer joins and finds the file meanwhile')
    t.true(after - before < 50 * MB)
    t.true(proc.running)
  },
)
