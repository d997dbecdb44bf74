import type { Socket } from 'node:net'
import { type Clock, type Connection, TimeoutError } from '@peerkit/core'
import { z } from 'zod'
import { connectSocket } from './secure.js'
import { decode, encode, Kind, preface, readAnswer } from './wire.js'

const port = z.number().int().min(1).max(65_535)

/**
 * What the two ends of a fresh relayed connection say before it is handed
 * to the Network (libp2p's DCUtR, in spirit): the dialer offers a push port
 * (it is reachable) and a punch port (the port its NAT showed the relay);
 * the reserved peer picks a plan; both then try it, and keep the relayed
 * connection when it fails.
 */
export const upgradeMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hi'), push: port.optional(), punch: port.optional() }).strict(),
  z
    .object({ t: z.literal('plan'), mode: z.enum(['relay', 'push', 'punch']), port: port.optional() })
    .strict(),
  z.object({ t: z.literal('sync') }).strict(),
  z.object({ t: z.literal('result'), ok: z.boolean() }).strict(),
])
export type UpgradeMessage = z.infer<typeof upgradeMessage>

export function sendUpgrade(conn: Connection, msg: UpgradeMessage): Promise<void> {
  return conn.send(encode(msg))
}

/** The next coordination message on `conn` (of type `t`), or `TimeoutError`/the close. */
export function nextUpgrade<T extends UpgradeMessage['t']>(
  conn: Connection,
  t: T,
  clock: Clock,
  timeout: number,
): Promise<Extract<UpgradeMessage, { t: T }>> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error, msg?: UpgradeMessage) => {
      clock.clearTimeout(timer)
      conn.off('message', onMessage)
      conn.off('close', onClose)
      if (err) reject(err)
      else resolve(msg as Extract<UpgradeMessage, { t: T }>)
    }
    const onMessage = (data: Uint8Array) => {
      try {
        const msg = decode(upgradeMessage, data, `relayed connection with ${conn.remotePeer}`)
        if (msg.t !== t) throw new TimeoutError(`expected '${t}', got '${msg.t}' from ${conn.remotePeer}`)
        done(undefined, msg)
      } catch (err) {
        done(err as Error)
      }
    }
    const onClose = (err?: Error) =>
      done(err ?? new TimeoutError(`relayed connection with ${conn.remotePeer} closed`))
    const timer = clock.setTimeout(
      () => done(new TimeoutError(`no '${t}' from ${conn.remotePeer} within ${timeout} ms`)),
      timeout,
    )
    conn.once('message', onMessage)
    conn.once('close', onClose)
  })
}

/**
 * Asks the relay where it sees a fresh socket come from: the local port and
 * the public port its NAT gave it. A NAT that keeps the mapping for the next
 * destination (endpoint-independent) lets a hole punch from that local port
 * reach the same public port; a symmetric one does not.
 */
export async function observe(
  relay: { host: string; port: number },
  clock: Clock,
  timeout: number,
  localPort?: number,
): Promise<{ localPort: number; ip: string; port: number }> {
  const socket: Socket = await connectSocket({ ...relay, localPort, clock, timeout, what: 'observe' })
  try {
    const local = socket.localPort ?? 0
    socket.write(preface(Kind.observe, {}))
    const a = await readAnswer(socket, { clock, timeout, what: `relay ${relay.host}:${relay.port}` })
    if (!a.ok || !a.ip || !a.port) throw new TimeoutError(`relay ${relay.host}:${relay.port} did not observe`)
    // The relay ends the socket (it keeps the TIME_WAIT), so the local port is free to bind again at once.
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve()
      socket.once('close', () => resolve())
      socket.resume()
      const t = clock.setTimeout(() => resolve(), timeout)
      socket.once('close', () => clock.clearTimeout(t))
    })
    return { localPort: local, ip: a.ip, port: a.port }
  } finally {
    socket.destroy()
  }
}

/**
 * Observes a fresh local port twice, the second time from the same local port:
 * a NAT that gives the same public port again keeps its mappings (a hole punch
 * from that port can work); one that gives another (symmetric, or port
 * randomising) will not let a punch through, so none is tried.
 */
export async function observeTwice(
  relay: { host: string; port: number },
  clock: Clock,
  timeout: number,
): Promise<{ localPort: number; ip: string; port: number; stable: boolean }> {
  const first = await observe(relay, clock, timeout)
  // No second answer from that port means no evidence it keeps its mapping: reported as not stable, no punch.
  const again = await observe(relay, clock, timeout, first.localPort).catch(() => undefined)
  return { ...first, stable: again !== undefined && again.port === first.port && again.ip === first.ip }
}
