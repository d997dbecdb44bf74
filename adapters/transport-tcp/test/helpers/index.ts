import { connect, createServer, type Socket } from 'node:net'
import {
  buildPeerContainer,
  CLOCK,
  type Clock,
  type Connection,
  Identity,
  type Listener,
  RealClock,
  type TimerHandle,
  TRANSPORT,
} from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import type { ExecutionContext } from 'ava'
// The package's entry: it registers 'tcp', which makeTransport's containers name.
import '../../src/index.js'
import type { TcpTransport, TcpTransportOptions } from '../../src/index.js'
import { type HandshakeResult, handshake, type RecordCipher } from '../../src/secure.js'

/** Every wait in these tests gives up after this long. */
export const WAIT = 10_000

/** A TcpTransport in its own child container, disposed when the test ends. */
export function makeTransport(
  t: ExecutionContext,
  options: TcpTransportOptions = {},
  identity: Identity = Identity.generate(),
  clock: Clock = new RealClock(),
): { transport: TcpTransport; identity: Identity } {
  const c = buildPeerContainer(
    { overlay: 'none', transport: 'tcp', options: { tcp: options } },
    { identity, components: ['transport'], register: (cc) => cc.register(CLOCK, { useValue: clock }) },
  )
  t.teardown(() => c.dispose())
  return { transport: c.resolve(TRANSPORT) as TcpTransport, identity }
}

/** A listener on 127.0.0.1 port 0 and its address. */
export async function listen(transport: TcpTransport): Promise<{ listener: Listener; address: string }> {
  const listener = await transport.listen('tcp://127.0.0.1:0')
  return { listener, address: listener.addresses()[0] as string }
}

/** Dials and returns both ends. */
export async function pair(
  dialer: TcpTransport,
  listener: Listener,
  address: string,
): Promise<{ outbound: Connection; inbound: Connection }> {
  const inbound = next<Connection>(listener, 'connection')
  const outbound = await within(dialer.dial(address), 'dial')
  return { outbound, inbound: await inbound }
}

/** A plain TCP socket to `address`, connected. */
export async function rawSocket(t: ExecutionContext, address: string): Promise<Socket> {
  const url = new URL(address)
  const socket = connect({ host: url.hostname, port: Number(url.port) })
  t.teardown(() => socket.destroy())
  socket.resume() // read (and drop) whatever comes, so the far end's close is seen
  await within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    'connect',
  )
  return socket
}

interface Emitter {
  once(event: never, fn: never): unknown
}

/** The first argument of the next `event` (bounded). */
export function next<T = unknown>(emitter: Emitter, event: string): Promise<T> {
  return within(
    new Promise<T>((resolve) => emitter.once(event as never, ((v: T) => resolve(v)) as never)),
    event,
  )
}

/** The next `n` messages of `conn` (bounded). */
export function collect(conn: Connection, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  return within(
    new Promise((resolve) => {
      const on = (m: Uint8Array) => {
        out.push(m)
        if (out.length === n) {
          conn.off('message', on)
          resolve(out)
        }
      }
      conn.on('message', on)
    }),
    `${n} messages`,
  )
}

/** `promise`, or a rejection after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/**
 * Whether `p` settles within this turn of the event loop: a send that waits
 * for room does not (each turn lets the socket take what it can), one with room does.
 */
export async function settlesThisTurn(p: Promise<unknown>): Promise<boolean> {
  let settled = false
  p.then(
    () => (settled = true),
    () => (settled = true), // only observed here: the caller awaits `p` itself
  )
  await new Promise((r) => setImmediate(r))
  return settled
}

/** Resolves after `ms` of real time (for "nothing happens meanwhile" checks). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A Clock whose time moves only when the test calls `advance`. */
export class ManualClock implements Clock {
  private time = 0
  private timers = new Map<number, { at: number; fn: () => void }>()
  private nextId = 1

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size
  }

  advance(ms: number): void {
    this.time += ms
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.time) continue
      this.timers.delete(id)
      timer.fn()
    }
  }
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/**
 * A hand-driven peer: a plain TCP server that runs the real handshake as
 * responder and then hands the test the socket and record ciphers, to play
 * a slow, broken or hostile remote.
 */
export async function handPeer(t: ExecutionContext): Promise<{
  address: string
  identity: Identity
  accepted: Promise<{ socket: Socket; result: HandshakeResult }>
}> {
  const identity = Identity.generate()
  const server = createServer()
  const sockets: Socket[] = []
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = within(
    new Promise<{ socket: Socket; result: HandshakeResult }>((resolve, reject) => {
      server.once('connection', (socket: Socket) => {
        sockets.push(socket)
        handshake(socket, {
          role: 'responder',
          identity,
          cipher: 'aes-256-gcm',
          offload: false,
          clock: new RealClock(),
          timeout: WAIT,
          address: 'test',
        }).then((result) => resolve({ socket, result }), reject)
      })
    }),
    'hand peer handshake',
  )
  accepted.catch(() => {}) // the test awaits `accepted` and sees its failure; this only keeps it from being unhandled meanwhile
  return { address: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`, identity, accepted }
}

/** One record carrying `messages` as length-prefixed frames, sealed by `sender`, as wire bytes. */
export async function record(sender: RecordCipher, ...messages: Uint8Array[]): Promise<Buffer> {
  const frames = messages.flatMap((m) => [frameHeader(m.length), m])
  const length = frames.reduce((n, f) => n + f.length, 0)
  return Buffer.concat(await sender.seal(frames, length))
}
