import test from 'ava'
import { formatBytes, formatMs, plural, shortId } from '../src/index.js'

test('formatBytes uses decimal units with one decimal', (t) => {
  t.is(formatBytes(0), '0 B')
  t.is(formatBytes(999), '999 B')
  t.is(formatBytes(700_000), '700.0 kB')
  t.is(formatBytes(3 * 1024 * 1024 + 12_345), '3.2 MB')
  t.is(formatBytes(-1), '?')
})

test('formatMs, plural and shortId', (t) => {
  t.is(formatMs(87.4), '87 ms')
  t.is(formatMs(1234), '1.2 s')
  t.is(plural(1, 'hop'), '1 hop')
  t.is(plural(0, 'hop'), '0 hops')
  t.is(shortId('GDzvZhw7ltb4RMngfI4DeD8RThetaTmalJz_3hyWpf8'), 'GDzvZhw7…')
})
