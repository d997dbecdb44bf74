import test from 'ava'
import { type RateLimitError } from '../src/index.js'
import { ResourceManager } from '../src/resource-manager.js'

test('past the budget, the connection holding the most is closed and its bytes no longer count', (t) => {
  const manager = new ResourceManager(1000)
  const closed: [string, RateLimitError][] = []
  const scopes = ['a', 'b', 'c'].map((name) => manager.open(name, (err) => closed.push([name, err])))
  const [a, b, c] = scopes as [(typeof scopes)[0], (typeof scopes)[0], (typeof scopes)[0]]
  a.setTransport(300)
  b.setTransport(500)
  c.addMux(100)
  t.is(manager.used, 900)
  t.deepEqual(closed, [])
  c.addMux(150) // 1050 > 1000: b (500) goes
  t.deepEqual(
    closed.map(([n]) => n),
    ['b'],
  )
  t.is(closed[0]?.[1].name, 'RateLimitError')
  t.regex(closed[0]?.[1].message ?? '', /network\.memoryBudget \(1000\)/)
  t.is(manager.used, 550)
  t.true(b.closed)
  b.setTransport(10_000) // a closed scope reports nothing
  t.is(manager.used, 550)
  c.addMux(-250)
  a.release()
  t.is(manager.used, 0)
  t.is(manager.size, 1)
})

test('one connection alone over the budget is closed; none is closed for bytes going down', (t) => {
  const manager = new ResourceManager(100)
  let closed = 0
  const s = manager.open('x', () => closed++)
  s.setTransport(50)
  s.setTransport(20)
  t.is(closed, 0)
  s.setTransport(101)
  t.is(closed, 1)
  t.is(manager.used, 0)
})
