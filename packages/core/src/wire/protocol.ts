import type { z } from 'zod'

/**
 * A named, versioned protocol (`peerkit/chord/1`): the schema of the requests
 * it accepts and of the responses it gives. One-way messages use the
 * request schema and ignore the response.
 */
export interface Protocol<Req, Res> {
  readonly name: string
  readonly request: z.ZodType<Req>
  readonly response: z.ZodType<Res>
}

const NAME_RE = /^[a-z0-9-]+(\/[a-z0-9-]+)*\/\d+$/

export function defineProtocol<Req, Res>(
  name: string,
  request: z.ZodType<Req>,
  response: z.ZodType<Res>,
): Protocol<Req, Res> {
  if (!NAME_RE.test(name))
    throw new TypeError(`protocol name must look like 'peerkit/name/1' (got '${name}')`)
  return Object.freeze({ name, request, response })
}
