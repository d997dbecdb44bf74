import { SeededRandom } from '@peerkit/core'
import test from 'ava'
import { exponential, Zipf } from '../src/index.js'

test('Zipf probabilities fall as 1/k^s and sum to 1', (t) => {
  const z = new Zipf(100, 1)
  let sum = 0
  for (let k = 0; k < 100; k++) sum += z.probability(k)
  t.true(Math.abs(sum - 1) < 1e-9)
  t.true(Math.abs(z.probability(0) / z.probability(1) - 2) < 1e-9)
  t.true(Math.abs(z.probability(0) / z.probability(9) - 10) < 1e-9)
  t.is(z.probability(100), 0)
})

test('Zipf samples follow the distribution', (t) => {
  const z = new Zipf(50, 1.2)
  const random = new SeededRandom(3)
  const counts = new Array(50).fill(0)
  const n = 100_000
  for (let i = 0; i < n; i++) counts[z.sample(random)]++
  for (const k of [0, 1, 5]) t.true(Math.abs(counts[k] / n - z.probability(k)) < 0.01, `rank ${k}`)
})

test('Zipf rejects bad parameters', (t) => {
  t.throws(() => new Zipf(0, 1), { name: 'InvalidOptionsError' })
  t.throws(() => new Zipf(10, -1), { name: 'InvalidOptionsError' })
})

test('exponential draws have the requested mean', (t) => {
  const random = new SeededRandom(5)
  let sum = 0
  const n = 50_000
  for (let i = 0; i < n; i++) sum += exponential(random, 50)
  t.true(Math.abs(sum / n - 50) < 1.5)
  t.is(exponential(random, 0), 0)
})
