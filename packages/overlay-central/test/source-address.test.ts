import test from 'ava'
import { sourceOf } from '../src/index.js'

test('an IPv4 source: the address and its /24', (t) => {
  t.deepEqual(sourceOf('tcp://203.0.113.7:51234'), { address: '203.0.113.7', prefix: '203.0.113.0/24' })
  t.deepEqual(sourceOf('tcp://127.0.1.5:1'), { address: '127.0.1.5', prefix: '127.0.1.0/24' })
})

test('an IPv6 source: the full address and its /64; an IPv4-mapped one is IPv4', (t) => {
  t.deepEqual(sourceOf('tcp://[2001:db8::1]:4001'), {
    address: '2001:db8:0:0:0:0:0:1',
    prefix: '2001:db8:0:0::/64',
  })
  t.is(sourceOf('tcp://[2001:db8:0:0:ffff::2]:4001').prefix, '2001:db8:0:0::/64')
  t.deepEqual(sourceOf('tcp://[::ffff:198.51.100.9]:4001'), {
    address: '198.51.100.9',
    prefix: '198.51.100.0/24',
  })
})

test('a source that is not IP is its own range', (t) => {
  t.deepEqual(sourceOf('memory://alice'), { address: 'alice', prefix: 'alice' })
  t.deepEqual(sourceOf('weird'), { address: 'weird', prefix: 'weird' })
})
