import test from 'ava'
import { Deque } from '../src/deque.js'

test('a deque is first in, first out, across compactions', (t) => {
  const q = new Deque<number>()
  t.is(q.shift(), undefined)
  for (let i = 0; i < 5000; i++) q.push(i)
  const out: number[] = []
  for (let i = 0; i < 3000; i++) out.push(q.shift() as number)
  for (let i = 5000; i < 6000; i++) q.push(i)
  t.is(q.length, 3000)
  t.is(q.first(), 3000)
  t.is(q.last(), 5999)
  while (q.length > 0) out.push(q.shift() as number)
  t.deepEqual(
    out,
    Array.from({ length: 6000 }, (_, i) => i),
  )
  t.is(q.last(), undefined)
})

test('first and last can be replaced, any item removed, and the rest drained in order', (t) => {
  const q = new Deque<string>()
  for (const s of ['a', 'b', 'c', 'd']) q.push(s)
  q.shift()
  q.replaceFirst('B')
  q.replaceLast('D')
  t.true(q.remove('c'))
  t.false(q.remove('a'), 'already shifted')
  t.deepEqual(q.drain(), ['B', 'D'])
  t.is(q.length, 0)
})
