import { z } from 'zod'
import { ProtocolError } from '../errors.js'
import { wireErrorSchema } from './schemas.js'

/** Kinds of envelope on a connection. */
export enum Kind {
  Request = 0,
  Response = 1,
  Error = 2,
  Message = 3,
  /**
   * `[GoAway, lastId]`: the sender is closing the connection. It read the
   * remote's requests up to `lastId` (0: none) and answers them; it will not
   * read those sent after, and sends no new request or message on the
   * connection. Not sent to a peer whose identify told an older
   * multiplexer (no `mux`): it closes the connection on an unknown kind.
   */
  GoAway = 4,
}

const id = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 32)
const protocolName = z.string().min(1).max(128)

/** Every frame body is one of these msgpack arrays. */
export const envelopeSchema = z.union([
  z.tuple([z.literal(Kind.Request), id, protocolName, z.unknown()]),
  z.tuple([z.literal(Kind.Response), id, z.unknown()]),
  z.tuple([z.literal(Kind.Error), id, wireErrorSchema]),
  z.tuple([z.literal(Kind.Message), protocolName, z.unknown()]),
  z.tuple([z.literal(Kind.GoAway), id]),
])

export type Envelope = z.infer<typeof envelopeSchema>

const MAX_ID = 2 ** 32
const MAX_PROTOCOL_NAME = 128
const MAX_ERROR_NAME = 64
const MAX_ERROR_MESSAGE = 1024

function bad(where: string, what: string): ProtocolError {
  return new ProtocolError(`invalid envelope${where}: ${what}`)
}

function checkId(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID)
    throw bad(' at 1', `a request id is an integer from 0 to ${MAX_ID}`)
  return v
}

function checkProtocol(v: unknown, at: number): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > MAX_PROTOCOL_NAME)
    throw bad(` at ${at}`, `a protocol name is a string of 1 to ${MAX_PROTOCOL_NAME} characters`)
  return v
}

function checkError(v: unknown): { name: string; message: string } {
  const e = v as { name?: unknown; message?: unknown } | null
  if (
    typeof e !== 'object' ||
    e === null ||
    Array.isArray(e) ||
    typeof e.name !== 'string' ||
    e.name.length > MAX_ERROR_NAME ||
    typeof e.message !== 'string' ||
    e.message.length > MAX_ERROR_MESSAGE
  )
    throw bad(
      ' at 2',
      `an error is { name: at most ${MAX_ERROR_NAME}, message: at most ${MAX_ERROR_MESSAGE} characters }`,
    )
  return { name: e.name, message: e.message }
}

/**
 * `envelopeSchema`, compiled by hand: the envelope is checked on every frame,
 * and zod's union tried its four tuples in turn, building an issue list for
 * each that failed (a one-way message, the commonest, failed three). Accepts
 * exactly what the schema accepts (tested against it) and returns the same
 * value: the array itself, or for an error a copy holding only name and message.
 * Throws `ProtocolError` naming the first problem.
 */
export function checkEnvelope(value: unknown): Envelope {
  if (!Array.isArray(value)) throw bad('', 'not an array')
  const kind = value[0]
  const length = value.length
  switch (kind) {
    case Kind.Request:
      if (length !== 4) break
      checkId(value[1])
      checkProtocol(value[2], 2)
      return value as Envelope
    case Kind.Response:
      if (length !== 3) break
      checkId(value[1])
      return value as Envelope
    case Kind.Error:
      if (length !== 3) break
      return [Kind.Error, checkId(value[1]), checkError(value[2])]
    case Kind.Message:
      if (length !== 3) break
      checkProtocol(value[1], 1)
      return value as Envelope
    case Kind.GoAway:
      if (length !== 2) break
      checkId(value[1])
      return value as Envelope
    default:
      throw bad(' at 0', `unknown kind ${JSON.stringify(kind)?.slice(0, 16)}`)
  }
  const items = kind === Kind.Request ? 4 : kind === Kind.GoAway ? 2 : 3
  throw bad('', `an envelope of kind ${kind} has ${items} items, not ${length}`)
}
