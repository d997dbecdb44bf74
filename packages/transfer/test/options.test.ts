import { TRANSFER, transfers } from '@peerkit/core'
import test from 'ava'
import { container } from 'tsyringe'
import {
  DEFAULT_MAX_IN_FLIGHT_PER_PEER,
  defaultTransfer,
  parseTransferOptions,
  TRANSFER_OPTIONS,
} from '../src/index.js'

test('defaults are filled in and frozen', (t) => {
  const o = parseTransferOptions()
  t.is(o.maxInFlightPerPeer, DEFAULT_MAX_IN_FLIGHT_PER_PEER)
  t.true(o.endgame)
  t.true(Object.isFrozen(o))
  t.is(parseTransferOptions({ requestTimeout: 50 }).requestTimeout, 50)
})

test('bad options name the field', (t) => {
  t.throws(() => parseTransferOptions({ maxInFlightPerPeer: 0 }), {
    name: 'InvalidOptionsError',
    message: /maxInFlightPerPeer/,
  })
  t.throws(() => parseTransferOptions({ endgame: 'yes' }), {
    name: 'InvalidOptionsError',
    message: /endgame/,
  })
  t.throws(() => parseTransferOptions({ blockSize: 3000 }), {
    name: 'InvalidOptionsError',
    message: /blockSize/,
  })
  t.throws(() => parseTransferOptions({ blockSize: 8 * 1024 * 1024 }), {
    name: 'InvalidOptionsError',
    message: /blockSize/,
  })
  t.throws(() => parseTransferOptions({ speed: 1 }), {
    name: 'InvalidOptionsError',
    message: /transfer\.speed/,
  })
  t.throws(() => parseTransferOptions(5), { name: 'InvalidOptionsError' })
  for (const key of ['providerWait', 'maxActiveDownloads', 'downloadRate', 'uploadRate', 'maxUploadPeers']) {
    t.throws(() => parseTransferOptions({ [key]: -1 }), {
      name: 'InvalidOptionsError',
      message: new RegExp(`transfer\\.${key} must be an integer .*got -1`),
    })
  }
})

test('the download controls and rate limits default to: wait 5 minutes for providers, 4 downloads at once, no caps, no slot limit', (t) => {
  const o = parseTransferOptions()
  t.is(o.providerWait, 300_000)
  t.is(o.maxActiveDownloads, 4)
  t.is(o.downloadRate, 0)
  t.is(o.uploadRate, 0)
  t.is(o.maxUploadPeers, 0)
})

test("importing the package registers 'default', which validates before registering", (t) => {
  t.true(transfers.has('default'))
  t.throws(() => transfers.get('default')({ requestTimeout: -1 }), { name: 'InvalidOptionsError' })
  const c = container.createChildContainer()
  defaultTransfer({ maxPeers: 3 })(c)
  t.is(c.resolve(TRANSFER_OPTIONS).maxPeers, 3)
  t.true(c.isRegistered(TRANSFER))
})

test('a misspelt option gets the nearest name; every message is core one format (transfer.FIELD …)', (t) => {
  t.throws(() => parseTransferOptions({ maxPeer: 3 }), {
    name: 'InvalidOptionsError',
    message: 'transfer.maxPeer is not an option; did you mean maxPeers?',
  })
  t.throws(() => parseTransferOptions({ providerSearchInterval: -5 }), {
    message: /^transfer\.providerSearchInterval must be an integer from 0 .*\(got -5\)$/,
  })
  t.is(parseTransferOptions().providerSearchInterval, 30_000)
  t.is(parseTransferOptions().hashWorkers, undefined)
})
