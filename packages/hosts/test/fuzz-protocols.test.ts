import { type Protocol } from '@peerkit/core'
import { decode, encode, validate } from '@peerkit/core/wire'
import { CENTRAL } from '@peerkit/overlay-central'
import { CHORD_PROTOCOL } from '@peerkit/overlay-chord'
import { FLOODING } from '@peerkit/overlay-flooding'
import { SUPERNODE } from '@peerkit/overlay-supernode'
import { TRANSFER_PROTOCOL } from '@peerkit/transfer'
import test from 'ava'
import fc from 'fast-check'
import type { z } from 'zod'
import { junk, mutatedBytes, PARAMS, shaped } from './helpers/fuzz.js'

// Every protocol as its package's barrel exports it.
const PROTOCOLS: Protocol<unknown, unknown>[] = [
  CENTRAL,
  FLOODING,
  SUPERNODE,
  CHORD_PROTOCOL,
  TRANSFER_PROTOCOL,
]

for (const protocol of PROTOCOLS) {
  for (const side of ['request', 'response'] as const) {
    const schema = protocol[side] as z.ZodType
    test(`${protocol.name} ${side}: shaped, mutated and random messages are accepted or refused with ProtocolError`, (t) => {
      let accepted = 0
      let refused = 0
      const message = fc.oneof(
        { weight: 3, arbitrary: shaped(schema).map((v) => encode(v)) },
        { weight: 1, arbitrary: mutatedBytes(shaped(schema).map((v) => encode(v))) },
        { weight: 1, arbitrary: junk.map((v) => encode(v)) },
      )
      fc.assert(
        fc.property(message, (bytes) => {
          let value: unknown
          try {
            value = validate(schema, decode(bytes), `${protocol.name} ${side}`)
          } catch (err) {
            refused++
            return (err as Error).name === 'ProtocolError'
          }
          accepted++
          // What was accepted survives its own round trip unchanged in meaning.
          validate(schema, decode(encode(value)), 'round trip')
          return true
        }),
        PARAMS,
      )
      t.log(`${accepted} accepted, ${refused} refused`)
      t.true(refused > 0, 'hostile messages were refused')
      t.true(
        accepted > 0,
        'the fuzzer reached valid messages too (it tests the schema, not only its first check)',
      )
    })
  }
}
