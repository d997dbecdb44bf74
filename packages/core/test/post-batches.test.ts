import test from 'ava'
import { PostBatches } from '../src/post-batches.js'

test('each batch runs its sends in order on one microtask, where its first send would have run', async (t) => {
  const order: string[] = []
  const batches = new PostBatches<string, string, number, string>((sender, message, a, b) =>
    order.push(`${sender}/${message} ${a}${b}`),
  )
  queueMicrotask(() => order.push('before'))
  batches.open('s', 'm')
  batches.add(1, 'a')
  batches.add(2, 'b')
  t.true(batches.isOpen)
  batches.close()
  t.false(batches.isOpen)
  queueMicrotask(() => order.push('between'))
  batches.open('r', 'n')
  batches.add(3, 'c')
  batches.close()
  queueMicrotask(() => order.push('after'))
  t.deepEqual(order, [], 'nothing runs before the microtasks')
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(order, ['before', 's/m 1a', 's/m 2b', 'between', 'r/n 3c', 'after'])
})

test('a queue emptied starts again from its first slot, and a batch opened by a send runs after the one that opened it', async (t) => {
  const order: string[] = []
  const batches: PostBatches<string, string, number, number> = new PostBatches((sender, _m, a) => {
    order.push(`${sender}${a}`)
    if (sender === 'x' && a === 1) {
      batches.open('y', 'm')
      batches.add(9, 0)
      batches.close()
    }
  })
  for (let round = 0; round < 3; round++) {
    batches.open('x', 'm')
    batches.add(1, 0)
    batches.add(2, 0)
    batches.close()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.deepEqual(order, ['x1', 'x2', 'y9', 'x1', 'x2', 'y9', 'x1', 'x2', 'y9'])
  t.is((batches as unknown as { q: unknown[] }).q.length, 12, 'the slots of the two batches, reused')
})
