import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Options of the `memory` index (`config.options.memory`, or `options['index:memory']`): none yet; the object is reserved for later ones. */
export const memoryIndexOptionsSchema = z.object({}).strict()

export type MemoryIndexOptions = z.input<typeof memoryIndexOptionsSchema>

/** Accepts `undefined` or an empty object; throws `InvalidOptionsError` in core's one format naming any unknown field. */
export function parseMemoryIndexOptions(input: unknown): Readonly<MemoryIndexOptions> {
  return parseOptions(memoryIndexOptionsSchema, input ?? {}, 'memory')
}
