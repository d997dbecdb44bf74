import test from 'ava'
import '../src/register.js'
import { indexes, overlays, transfers, transports } from '@peerkit/core'
import { OVERLAYS } from './helpers/overlay-options.js'

test('the CLI registers every built-in implementation', (t) => {
  for (const o of OVERLAYS) t.true(overlays.has(o), o)
  for (const name of ['memory', 'tcp']) t.true(transports.has(name), name)
  t.true(indexes.has('memory'))
  t.true(transfers.has('default'))
})
