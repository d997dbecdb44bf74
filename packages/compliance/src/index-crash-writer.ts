/**
 * The writer the persistence suite kills: `node index-crash-writer.js MODULE LOCATION NAME`.
 * It imports MODULE (whose default export makes an Index: `(location, name) => Index`),
 * opens the index and applies `crashOps()` in bursts of `CRASH_BURST` un-awaited
 * calls, printing `ack K` when operation K's promise resolved, until it is killed.
 */
import 'reflect-metadata'
import { pathToFileURL } from 'node:url'
import type { Index } from '@peerkit/core'
import { CRASH_BURST, crashOp } from './index-crash-ops.js'

const [module, location, name] = process.argv.slice(2) as [string, string, string]
const make = (await import(pathToFileURL(module).href)).default as (location: string, name: string) => Index
const index = make(location, name)
await index.open()
process.stdout.write('open\n')
for (let k = 0; ; k += CRASH_BURST) {
  const burst: Promise<void>[] = []
  for (let j = k; j < k + CRASH_BURST; j++) {
    const op = crashOp(j)
    const done =
      op.kind === 'put' ? index.put(op.record) : index.remove(op.record.hash, op.record.provider.id)
    burst.push(done.then(() => void process.stdout.write(`ack ${j}\n`)))
  }
  await Promise.all(burst)
}
