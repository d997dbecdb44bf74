import test from 'ava'
import { runCli } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'

test('peerkit sim runs the real overlays in virtual time and prints one JSON report', async (t) => {
  const c = captureIo()
  t.is(
    await runCli(['sim', '--overlay', 'flooding,chord', '--nodes', '24', '--queries', '12', '--json'], c.io),
    0,
  )
  const report = JSON.parse(c.stdout()) as {
    results: { overlay: string; queries: { successRate: number } }[]
  }
  t.deepEqual(
    report.results.map((r) => r.overlay),
    ['flooding', 'chord'],
  )
  for (const r of report.results)
    t.true(r.queries.successRate > 0.5, `${r.overlay} found ${r.queries.successRate}`)
})

test('peerkit sim with a bad flag exits 2 and says what is wrong', async (t) => {
  const c = captureIo()
  t.is(await runCli(['sim', '--overlay', 'chord', '--nodes', 'many'], c.io), 2)
  t.regex(c.stderr(), /--nodes/)
})

test('peerkit sim --help prints its own usage', async (t) => {
  const c = captureIo()
  t.is(await runCli(['sim', '--help'], c.io), 0)
  t.regex(c.stdout(), /Usage: peerkit sim --overlay/)
})
