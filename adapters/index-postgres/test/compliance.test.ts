import { indexPersistenceSuite, indexSuite } from '@peerkit/compliance'
import test from 'ava'
import { PostgresIndex } from '../src/index.js'
import { CRASH_MODULE } from './helpers/crash-index.js'
import { otherSessionsEnded, sharedServer } from './helpers/server.js'

const server = sharedServer(test)

indexSuite(
  test,
  async ({ clock }) => new PostgresIndex({ url: await (await server()).createDatabase() }, { clock }),
)

indexPersistenceSuite(test, {
  location: async () => (await server()).createDatabase(),
  make: (url, name, { clock }) => new PostgresIndex({ url, name }, { clock }),
  crashModule: CRASH_MODULE,
  // The server may still commit what the killed writer had sent: the checks wait until its session is gone.
  crashSettled: (url) => otherSessionsEnded(url),
})
