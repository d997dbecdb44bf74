import test from 'ava'
import { RecencyList } from '../src/recency-list.js'

test('keeps the order entries were last put in, as a Map kept by delete and set does', (t) => {
  const list = new RecencyList<number, number>()
  const ref = new Map<number, number>()
  let x = 7
  const next = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x % n
  }
  for (let i = 0; i < 20_000; i++) {
    const op = next(10)
    const key = next(50)
    if (op < 3) {
      list.put(key, i)
      ref.delete(key)
      ref.set(key, i)
    } else if (op < 6) {
      // refresh() moves a known key, add() puts an unknown one: put() in two steps
      if (list.refresh(key, i) !== ref.has(key)) return t.fail(`step ${i}: refresh(${key})`)
      if (!ref.has(key)) list.add(key, i)
      ref.delete(key)
      ref.set(key, i)
    } else if (op < 8) t.is(list.delete(key), ref.delete(key))
    else if (op < 9) {
      list.deleteOldest()
      const oldest = ref.keys().next()
      if (!oldest.done) ref.delete(oldest.value)
    } else if (list.has(key) !== ref.has(key)) return t.fail(`step ${i}: has(${key})`)
    if (list.size !== ref.size) return t.fail(`step ${i}: ${list.size} entries, the reference ${ref.size}`)
    if (i % 97 === 0 && list.toArray().join() !== [...ref.values()].join())
      return t.fail(`step ${i}: the order differs`)
  }
  for (const [key, value] of ref) t.is(list.value(list.slot(key)), value)
  t.is(list.slot(1000), -1)
  const walked: number[] = []
  for (let s = list.first; s !== -1; s = list.next(s)) walked.push(list.value(s))
  t.deepEqual(walked, [...ref.values()])
})

test('reuses the slots of removed entries: its arrays grow with the most entries held at once', (t) => {
  const list = new RecencyList<string, number>()
  for (let i = 0; i < 100_000; i++) {
    list.put(`k${i}`, i)
    if (list.size > 20) list.deleteOldest()
  }
  t.is(list.size, 20)
  t.deepEqual(
    list.toArray(),
    Array.from({ length: 20 }, (_, i) => 99_980 + i),
  )
  // Twenty entries never needed more than 32 slots (the arrays start at 8 and double).
  t.true((list as unknown as { keys: unknown[] }).keys.length <= 32)
  list.deleteOldest()
  t.is(list.toArray()[0], 99_981)
  const empty = new RecencyList<string, number>()
  empty.deleteOldest()
  t.is(empty.first, -1)
  t.deepEqual(empty.toArray(), [])
})
