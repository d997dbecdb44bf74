import test from 'ava'
import { SourceLimits, sourceAddress, sourceSubnet } from '../src/source-limits.js'

test('sources are grouped by IPv4 /24 and IPv6 /64; mapped IPv4 counts as IPv4', (t) => {
  t.is(sourceAddress('::ffff:10.1.2.3'), '10.1.2.3')
  t.is(sourceSubnet('10.1.2.3'), '10.1.2.0/24')
  t.is(sourceSubnet('2001:db8:0:1::5'), '2001:db8:0:1::/64')
  t.is(sourceSubnet('2001:db8::1'), '2001:db8:0:0::/64')
  t.is(sourceSubnet('2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64')
  t.is(sourceSubnet('::1'), '0:0:0:0::/64')
  t.is(sourceSubnet('fe80::1%eth0'), 'fe80:0:0:0::/64')
})

test('SourceLimits refuses past the per-address and per-subnet maxima, naming the option, and forgets released sources', (t) => {
  const limits = new SourceLimits(2, 3, 'handshakes in progress', ['tcp.maxA', 'tcp.maxS'])
  t.is(limits.acquire('10.0.0.1'), undefined)
  t.is(limits.acquire('10.0.0.1'), undefined)
  t.regex(limits.acquire('10.0.0.1') ?? '', /2 handshakes in progress from 10\.0\.0\.1 already \(tcp\.maxA\)/)
  t.is(limits.acquire('10.0.0.2'), undefined)
  t.regex(limits.acquire('10.0.0.3') ?? '', /from 10\.0\.0\.0\/24 already \(tcp\.maxS\)/)
  t.is(limits.acquire('10.0.1.1'), undefined, 'another /24 is not affected')
  limits.release('10.0.0.1')
  limits.release('10.0.0.1')
  t.is(limits.held('10.0.0.1'), 0)
  t.is(limits.acquire('10.0.0.3'), undefined)
})
