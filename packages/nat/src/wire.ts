import type { Socket } from 'node:net'
import { type Clock, PeerUnreachableError, ProtocolError, TimeoutError } from '@peerkit/core'
import { pack, unpack } from 'msgpackr'
import { z } from 'zod'

/**
 * The relay service's socket preface: every socket to a relay port starts with
 * `MAGIC ‖ kind (1) ‖ length (u16 BE) ‖ msgpack body`, and each answer is
 * `length (u16 BE) ‖ msgpack body`. After the preface the socket carries the
 * `peerkit-tcp/1` handshake (a reservation's control channel, or the
 * end-to-end handshake of a relayed connection): the relay never sees
 * plaintext of a relayed connection.
 */
export const MAGIC = Buffer.from('pkr1')
/** Largest preface or answer body. */
export const MAX_BODY = 1024

export const Kind = {
  /** Keep a reservation: the rest is a `peerkit-tcp/1` handshake with the relay, then control messages. */
  reserve: 1,
  /** Open a relayed connection to a reserved peer. */
  connect: 2,
  /** A reserved peer takes an incoming relayed connection (by its one-time token). */
  accept: 3,
  /** Tell me the address you see this socket come from (for hole punching). */
  observe: 4,
} as const
export type Kind = (typeof Kind)[keyof typeof Kind]

const peerId = z.string().min(1).max(128)
const token = z.string().regex(/^[0-9a-f]{32}$/)
const ip = z.string().min(1).max(64)
const port = z.number().int().min(1).max(65_535)

export const connectBody = z.object({ target: peerId }).strict()
export const acceptBody = z.object({ token }).strict()
export const emptyBody = z.object({}).strict()
/** The relay's answer to connect, accept and observe. */
export const answerBody = z
  .object({
    ok: z.boolean(),
    reason: z.string().max(512).optional(),
    /** The IP (and port) the relay sees: the connecting socket's (observe), or the other end's (connect). */
    ip: ip.optional(),
    port: port.optional(),
  })
  .strict()
export type Answer = z.infer<typeof answerBody>

/** Control messages of a reservation (over its encrypted `peerkit-tcp/1` connection). */
export const controlMessage = z.discriminatedUnion('t', [
  /** relay → client: the reservation stands; `ip`/`port` is where the relay sees the client. */
  z.object({ t: z.literal('reserved'), ip, port }).strict(),
  /** relay → client: refused (a limit), then closed. */
  z.object({ t: z.literal('refused'), reason: z.string().max(512) }).strict(),
  /** relay → client: someone at `ip` connects; accept with `token`. */
  z.object({ t: z.literal('incoming'), token, ip }).strict(),
  /** client → relay: dial me back on these ports (at the IP this connection comes from). */
  z.object({ t: z.literal('dialback'), ports: z.array(port).min(1).max(16) }).strict(),
  /** client → relay: is the reservation still there (and the NAT's mapping kept warm)? */
  z.object({ t: z.literal('ping') }).strict(),
  /** relay → client: it is. */
  z.object({ t: z.literal('pong') }).strict(),
  /** relay → client: which ports answered as the client's PeerId. */
  z
    .object({ t: z.literal('dialback-result'), ip, ok: z.array(port).max(16), failed: z.array(port).max(16) })
    .strict(),
])
export type ControlMessage = z.infer<typeof controlMessage>

export function encode(value: unknown): Uint8Array {
  return pack(value)
}

export function decode<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.output<S> {
  let value: unknown
  try {
    value = unpack(bytes)
  } catch (err) {
    throw new ProtocolError(`${what}: not msgpack`, { cause: err })
  }
  const r = schema.safeParse(value)
  if (!r.success) throw new ProtocolError(`${what}: ${r.error.issues[0]?.message ?? 'malformed'}`)
  return r.data
}

/** `MAGIC ‖ kind ‖ len ‖ body`. */
export function preface(kind: Kind, body: unknown): Buffer {
  const b = Buffer.from(encode(body))
  if (b.length > MAX_BODY)
    throw new ProtocolError(`relay preface body of ${b.length} bytes (max ${MAX_BODY})`)
  const head = Buffer.alloc(MAGIC.length + 3)
  MAGIC.copy(head)
  head[MAGIC.length] = kind
  head.writeUInt16BE(b.length, MAGIC.length + 1)
  return Buffer.concat([head, b])
}

/** `len ‖ body`. */
export function answer(body: Answer): Buffer {
  const b = Buffer.from(encode(body))
  const head = Buffer.alloc(2)
  head.writeUInt16BE(b.length)
  return Buffer.concat([head, b])
}

export interface ReadOptions {
  clock: Clock
  timeout: number
  /** For messages: who is at the other end. */
  what: string
}

/**
 * Reads one length-prefixed frame (after `headSize - 2` leading bytes, the
 * last two of the head being the body length) and leaves the socket paused,
 * with whatever came after the frame pushed back into it. The caller attaches
 * its next reader and calls `socket.resume()`.
 */
export function readFrame(
  socket: Socket,
  headSize: number,
  o: ReadOptions,
): Promise<{ head: Buffer; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    const finish = (err?: Error, value?: { head: Buffer; body: Buffer }, rest?: Buffer) => {
      o.clock.clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
      if (err) {
        socket.destroy()
        reject(err)
        return
      }
      socket.pause()
      if (rest && rest.length > 0) socket.unshift(rest)
      resolve(value as { head: Buffer; body: Buffer })
    }
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      if (buffered.length < headSize) return
      const len = buffered.readUInt16BE(headSize - 2)
      if (len > MAX_BODY)
        return finish(new ProtocolError(`${o.what}: a relay frame of ${len} bytes (max ${MAX_BODY})`))
      if (buffered.length < headSize + len) return
      finish(
        undefined,
        { head: buffered.subarray(0, headSize), body: buffered.subarray(headSize, headSize + len) },
        buffered.subarray(headSize + len),
      )
    }
    const onError = (err: Error) =>
      finish(new PeerUnreachableError(`${o.what}: ${err.message}`, { cause: err }))
    const onClose = () => finish(new PeerUnreachableError(`${o.what}: closed before its relay frame`))
    const timer = o.clock.setTimeout(
      () => finish(new TimeoutError(`${o.what}: no relay frame within ${o.timeout} ms`)),
      o.timeout,
    )
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    socket.resume()
  })
}

/** Reads a preface (server side): its kind and body bytes. */
export async function readPreface(socket: Socket, o: ReadOptions): Promise<{ kind: number; body: Buffer }> {
  const { head, body } = await readFrame(socket, MAGIC.length + 3, o)
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) {
    socket.destroy()
    throw new ProtocolError(`${o.what}: not a relay preface`)
  }
  return { kind: head[MAGIC.length] as number, body }
}

/** Reads the relay's answer (client side). */
export async function readAnswer(socket: Socket, o: ReadOptions): Promise<Answer> {
  const { body } = await readFrame(socket, 2, o)
  return decode(answerBody, body, o.what)
}

/** `HOST:PORT` of a socket's remote end, IPv4-mapped IPv6 unwrapped. */
export function remoteIp(socket: Socket): string {
  return (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
}
