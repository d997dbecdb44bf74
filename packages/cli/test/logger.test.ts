import test from 'ava'
import { cliLogger } from '../src/index.js'

/** `TIME level component message …` with the time cut off. */
function lines(out: string): string[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''))
}

test("the command's logger is core's, writing lines at and above its level to the stream, with fields", (t) => {
  let out = ''
  const log = cliLogger('info', { write: (s: string) => (out += s) })
  log.debug('hidden')
  log.info('shared', { path: '/v', files: 3, skip: undefined })
  log.error('failed', { error: { name: 'X' } })
  // Other components log from warn, unless the level is debug, error or silent.
  log.forComponent('peerkit:transfer').info('hidden too')
  log.forComponent('peerkit:transfer').warn('shown')
  t.deepEqual(lines(out), [
    'info  peerkit:cli shared path=/v files=3',
    'error peerkit:cli failed error={"name":"X"}',
    'warn  peerkit:transfer shown',
  ])
  t.false(cliLogger('silent', { write: () => t.fail() }).enabled('error'))
  let debug = ''
  cliLogger('debug', { write: (s: string) => (debug += s) })
    .forComponent('peerkit:chord')
    .debug('seen')
  t.deepEqual(lines(debug), ['debug peerkit:chord seen'])
})

test('what a remote peer sent is escaped in log lines: one line per entry, no escape sequences', (t) => {
  let out = ''
  const log = cliLogger('info', { write: (s: string) => (out += s) })
  log.info('peer logged in', { addresses: ['tcp://x\x1b[2J\n1970-01-01T00:00:00.000Z error fake'] })
  log.warn('dropped\r\n', { reason: 'bye\u202e' })
  t.deepEqual(lines(out), [
    'info  peerkit:cli peer logged in addresses=["tcp://x\\u001b[2J\\n1970-01-01T00:00:00.000Z error fake"]',
    'warn  peerkit:cli dropped\\r\\n reason=bye\\u202e',
  ])
  t.is(out.split('\n').length, 3)
})
