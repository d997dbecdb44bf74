import test from 'ava'
import { addressGroup } from '../src/index.js'

test('public addresses group by IPv4 /16 and IPv6 /32', (t) => {
  t.is(addressGroup('tcp://198.51.100.7:4001'), '198.51.0.0/16')
  t.is(addressGroup('tcp://198.51.3.9:1'), '198.51.0.0/16')
  t.is(addressGroup('tcp://8.8.8.8:53'), '8.8.0.0/16')
  t.is(addressGroup('tcp://[2001:db8:abcd:12::1]:4001'), '2001:db8::/32')
  t.is(addressGroup('tcp://[2001:0db8::]:4001'), '2001:db8::/32')
  t.is(addressGroup('tcp://[::ffff:198.51.100.7]:4001'), '198.51.0.0/16', 'an IPv4-mapped address is IPv4')
  t.is(addressGroup('ws://203.0.113.5:80/peerkit'), '203.0.0.0/16')
})

test('loopback, private, link-local and non-IP addresses are not grouped', (t) => {
  for (const a of [
    'tcp://127.0.0.1:4001',
    'tcp://10.1.2.3:1',
    'tcp://172.16.0.1:1',
    'tcp://172.31.255.1:1',
    'tcp://192.168.1.20:1',
    'tcp://169.254.0.5:1',
    'tcp://100.64.0.1:1',
    'tcp://0.0.0.0:1',
    'tcp://[::1]:1',
    'tcp://[::]:1',
    'tcp://[fe80::1]:1',
    'tcp://[fd12:3456::1]:1',
    'tcp://[::ffff:127.0.0.1]:1',
    'memory://victim',
    'webrtc://12D3KooW',
    'ws://example.com:80',
    'not a url',
  ]) {
    t.is(addressGroup(a), undefined, a)
  }
  t.is(addressGroup('tcp://172.32.0.1:1'), '172.32.0.0/16', 'just outside 172.16.0.0/12')
})
