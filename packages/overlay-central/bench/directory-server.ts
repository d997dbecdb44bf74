/**
 * One directory server of `npm run bench:directory`, in a process of its own
 * (its memory is measured alone): `node directory-server.js INDEX [DATABASE_URL]`.
 * Prints `address tcp://…`, then answers lines on stdin: `heap` (heap bytes
 * after two full collections), `records` (registrations it holds), `cpu` (its CPU time so far, ms), `stop`.
 */
import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import '@peerkit/index-postgres'
import { createInterface } from 'node:readline'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createDirectoryServer } from '../src/index.js'

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
process.stdout.write(`address ${directory.addresses()[0]} ${directory.id}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'heap') {
    gc()
    gc()
    process.stdout.write(`heap ${process.memoryUsage().heapUsed}\n`)
  } else if (line === 'records') process.stdout.write(`records ${directory.server.size}\n`)
  else if (line === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.stdout.write(`cpu ${(user + system) / 1000}\n`)
  } else if (line === 'stop') break
}
await directory.stop()
process.exit(0)
