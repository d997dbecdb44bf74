import { z } from 'zod'
import { wireErrorSchema } from './schemas.js'

/** Kinds of envelope on a connection. */
export enum Kind {
  Request = 0,
  Response = 1,
  Error = 2,
  Message = 3,
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
])

export type Envelope = z.infer<typeof envelopeSchema>
