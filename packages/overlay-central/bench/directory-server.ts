/**
 * One directory server of `npm run bench:directory`, in a process of its own
 * (its memory is measured alone): `node directory-server.js INDEX [DATABASE_URL]`.
 * Prints `address tcp://…`, then answers lines on stdin: `heap` (heap bytes
 * after two full collections), `records` (registrations it holds), `cpu` (its CPU time so far, ms),
 * `seed PER ID,ID,…` (fills its registry in-process: `PER` records for each listed logged-in peer, in the
 * order of the list, through the directory's own register handler, without network or signatures;
 * answers `seeded N`), `stop`.
 */
import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import '@peerkit/index-postgres'
import { createInterface } from 'node:readline'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { FileRecord, PeerId } from '@peerkit/core'
import { createDirectoryServer } from '../src/index.js'
import { recordsFor } from './records.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const [index = 'memory', url] = process.argv.slice(2)
const BIG = 1_000_000_000
const directory = await createDirectoryServer({
  listen: ['tcp://127.0.0.1:0'],
  index,
  components: {
    // Under load a register may wait long for one of the 8 connections, or run long inside a GIN
    // pending-list cleanup: the bench measures rates, so neither is cut off (defaults: 10 s and 30 s).
    ...(url ? { postgres: { url, poolSize: 8, connectTimeout: 600_000, statementTimeout: 0 } } : {}),
    tcp: { maxConnectionsPerAddress: 4096, maxHandshakesPerAddress: 1024, maxHandshakes: 1024 },
  },
  options: {
    // The bench measures the registry, not the budgets that guard it.
    maxRecordsPerPeer: BIG,
    maxBytesPerPeer: BIG * 1000,
    maxRecordsPerAddress: BIG,
    maxBytesPerAddress: BIG * 1000,
    maxRecordsPerPrefix: BIG,
    maxBytesPerPrefix: BIG * 1000,
    maxRecords: BIG,
    maxBytes: BIG * 1000,
    maxPeersPerAddress: 10_000,
    maxPeersPerPrefix: 10_000,
    searchRate: 1_000_000,
    searchBurst: 1_000_000,
    heartbeatInterval: 600_000,
    dropAfter: 3_600_000,
    registrationTtl: 3_600_000,
  },
})
await directory.start()

/** The register handler a `register` message reaches (after the network and the session check). */
type RegisterHandler = { register(peer: PeerId, records: FileRecord[]): unknown }

/**
 * `per` records for each peer of `peers` (logged in here; peer `c` makes the
 * bench's names of client `c`), in batches of 1,000, peer after peer in
 * turn, through the directory's own register handler: what a `register`
 * message does once it is read and its sender's session found.
 */
async function seed(per: number, peers: PeerId[]): Promise<number> {
  const server = directory.server as unknown as RegisterHandler
  const started = Date.now()
  let done = 0
  let told = started
  for (let from = 0; from < per; from += 1000) {
    for (const [c, id] of peers.entries()) {
      await server.register(id, recordsFor({ id, addresses: [] }, c, from, Math.min(1000, per - from)))
      done += Math.min(1000, per - from)
    }
    // Its peers' connections and the sweep keep running while it fills.
    await new Promise((resolve) => setImmediate(resolve))
    if (Date.now() - told > 60_000) {
      told = Date.now()
      const s = (told - started) / 1000
      process.stderr.write(`seeded ${done} records in ${Math.round(s)} s (${Math.round(done / s)}/s)\n`)
    }
  }
  return done
}
process.stdout.write(`address ${directory.addresses()[0]} ${directory.id}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'heap') {
    gc()
    gc()
    process.stdout.write(`heap ${process.memoryUsage().heapUsed}\n`)
  } else if (line === 'records') process.stdout.write(`records ${directory.server.size}\n`)
  else if (line.startsWith('seed ')) {
    const [, per = '0', ids = ''] = line.split(' ')
    process.stdout.write(`seeded ${await seed(Number(per), ids.split(','))}\n`)
  } else if (line === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.stdout.write(`cpu ${(user + system) / 1000}\n`)
  } else if (line === 'stop') break
}
await directory.stop()
process.exit(0)
