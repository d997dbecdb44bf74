import test from 'ava'
import { Logger } from '../src/index.js'

test('a logger writes lines at and above its level, with fields', (t) => {
  let out = ''
  const log = new Logger('info', { write: (s: string) => (out += s) }, () => new Date(0))
  log.debug('hidden')
  log.info('shared', { path: '/v', files: 3, skip: undefined })
  log.error('failed', { error: { name: 'X' } })
  t.is(
    out,
    '1970-01-01T00:00:00.000Z info  shared path=/v files=3\n' +
      '1970-01-01T00:00:00.000Z error failed error={"name":"X"}\n',
  )
  t.false(new Logger('silent', { write: () => t.fail() }).enabled('error'))
})

test('what a remote peer sent is escaped in log lines: one line per entry, no escape sequences', (t) => {
  let out = ''
  const log = new Logger('info', { write: (s: string) => (out += s) }, () => new Date(0))
  log.info('peer logged in', { addresses: ['tcp://x\x1b[2J\n1970-01-01T00:00:00.000Z error fake'] })
  log.warn('dropped\r\n', { reason: 'bye\u202e' })
  t.is(
    out,
    '1970-01-01T00:00:00.000Z info  peer logged in addresses=["tcp://x\\u001b[2J\\n1970-01-01T00:00:00.000Z error fake"]\n' +
      '1970-01-01T00:00:00.000Z warn  dropped\\r\\n reason=bye\\u202e\n',
  )
})
