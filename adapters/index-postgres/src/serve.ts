import 'reflect-metadata'
/**
 * `npm run postgres`: starts a throwaway PostgreSQL server, prints its URL,
 * and on Ctrl-C (or SIGTERM) stops it and deletes its data folder.
 */
import { startPostgres } from './testing.js'

const server = await startPostgres({ port: Number(process.env.PORT ?? 0) })
process.stdout.write(
  `PostgreSQL is running (data in ${server.dataDir}, deleted when it stops)\n` +
    `  ${server.url}\n` +
    `  peerkit directory --index postgres --database ${server.url} --listen tcp://127.0.0.1:4001\n` +
    'Ctrl-C stops it.\n',
)
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    server.stop().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`could not stop PostgreSQL cleanly: ${err.message}\n`)
        process.exit(1)
      },
    )
  })
}
