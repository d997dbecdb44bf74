import test from 'ava'
import {
  churnOptions,
  churnRow,
  lookupFailuresPer10k,
  runSimulation,
  TON_CHURN_RATES,
  TON_TABLE_III,
  tonChurnOptions,
} from '../src/index.js'

test('the ToN Table III set-up at small scale: lookups during churn, the same seed gives the same result', async (t) => {
  // 60 nodes, a join and a failure every 4 s on average, 40 lookups a second apart: about 10 of each
  // (harsher than the paper's worst case: a sixth of the ring turns over within one 30 s stabilisation period).
  const options = { ...tonChurnOptions(0.25, 40, { nodes: 60, seed: 3 }) }
  const [a, b] = await Promise.all([runSimulation(options), runSimulation(options)])
  const la = a.lookups
  if (!la) return t.fail('no lookup report')
  t.deepEqual(la, b.lookups)
  t.deepEqual(a.network, b.network)
  t.is(a.cost.virtualMs, b.cost.virtualMs)
  // Churn ran during the lookups: peers joined (through the protocol) and crashed.
  t.true(a.network.joined >= 3 && a.network.left >= 3, `joined ${a.network.joined}, left ${a.network.left}`)
  t.is(la.checked, 40)
  // Crashed nodes on the way cost timeouts, yet most lookups end at the key's live successor.
  t.true(la.correctness >= 0.75, `correctness ${la.correctness}`)
  t.is(lookupFailuresPer10k(la), Math.round(((la.checked - la.correct) / la.checked) * 100_000) / 10)
  const c = await runSimulation({ ...options, seed: 4 })
  t.notDeepEqual(c.lookups, la)
})

test('the paper table covers R = 0.05 … 0.40', (t) => {
  t.deepEqual(TON_CHURN_RATES, [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
  t.is(TON_TABLE_III.length, 8)
})

for (const overlay of ['central', 'flooding', 'supernode', 'chord']) {
  test(`${overlay} under churn at small scale: success and first hit reported, deterministic`, async (t) => {
    const options = {
      ...churnOptions(overlay, 0.5, 30, { nodes: 40, seed: 5 }),
      warmup: 3000,
      settle: 2000,
    }
    const [a, b] = await Promise.all([runSimulation(options), runSimulation(options)])
    const row = churnRow(a)
    t.deepEqual(row, churnRow(b))
    t.true(row.joined > 0 && row.left > 0, `joined ${row.joined}, left ${row.left}`)
    t.is(a.queries.issued, 30)
    t.is(a.queries.falseHits, 0)
    t.true(row.successRate > 0.5, `success ${row.successRate}`)
    t.true(row.firstHitMs > 0)
    if (overlay === 'chord') t.not(row.lookupFailuresPer10k, undefined)
    else t.is(row.lookupFailuresPer10k, undefined)
  })
}
