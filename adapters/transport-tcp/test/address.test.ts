import test from 'ava'
import { formatTcpAddress, isTcpAddress, parseTcpAddress } from '../src/index.js'
import { reachableAddresses } from '../src/parts.js'

test('parses tcp://HOST:PORT, IPv6 in brackets', (t) => {
  t.deepEqual(parseTcpAddress('tcp://127.0.0.1:4001'), { host: '127.0.0.1', port: 4001 })
  t.deepEqual(parseTcpAddress('tcp://[::1]:80'), { host: '::1', port: 80 })
  t.deepEqual(parseTcpAddress('tcp://example.org:1'), { host: 'example.org', port: 1 })
  t.deepEqual(parseTcpAddress('tcp://127.0.0.1:0', true), { host: '127.0.0.1', port: 0 })
})

test('rejects what is not a dialable tcp address with InvalidOptionsError', (t) => {
  for (const bad of [
    'tcp://127.0.0.1',
    'tcp://127.0.0.1:0',
    'tcp://127.0.0.1:65536',
    'udp://127.0.0.1:1',
    'tcp://127.0.0.1:1/path',
    'tcp://user@h:1',
    'not a url',
  ]) {
    t.throws(() => parseTcpAddress(bad), { name: 'InvalidOptionsError', message: /not a tcp address/ }, bad)
  }
})

test('formats addresses and recognises the scheme', (t) => {
  t.is(formatTcpAddress('10.0.0.5', 4001), 'tcp://10.0.0.5:4001')
  t.is(formatTcpAddress('::1', 4001), 'tcp://[::1]:4001')
  t.true(isTcpAddress('tcp://x:1'))
  t.true(isTcpAddress('TCP://x:1'))
  t.false(isTcpAddress('memory://x'))
})

test('a wildcard host expands to the machine’s addresses, loopback included', (t) => {
  t.deepEqual(reachableAddresses('127.0.0.1', 5), ['tcp://127.0.0.1:5'])
  const v4 = reachableAddresses('0.0.0.0', 5)
  t.true(v4.includes('tcp://127.0.0.1:5'))
  t.false(v4.some((a) => a.includes('0.0.0.0') || a.includes('[')))
  for (const a of reachableAddresses('::', 5)) t.notThrows(() => parseTcpAddress(a), a)
})
