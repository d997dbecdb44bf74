import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { parseSimArgs, type SimulationReport, sim } from '../src/index.js'

function capture() {
  const out: string[] = []
  const err = new PassThrough()
  const errText: string[] = []
  err.on('data', (d) => errText.push(String(d)))
  return {
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: err },
    stdout: () => out.join(''),
    stderr: () => errText.join(''),
  }
}

test('parseSimArgs reads every flag, in both spellings', (t) => {
  const o = parseSimArgs([
    '--overlay',
    'chord,flooding',
    '--nodes=64',
    '--queries',
    '10',
    '--churn',
    '0.5',
    '--fail=0.1',
    '--seed',
    '9',
    '--out',
    '/tmp/x',
    '--join',
    'oracle',
    '--sweep',
    '64,128',
    '--json',
    '--query-interval',
    '5',
    '--warmup=1000',
    '--max-connections',
    '32',
    '--options',
    '{"chord":{"successors":20}}',
  ])
  t.is(o.queryInterval, 5)
  t.is(o.warmup, 1000)
  t.is(o.maxConnections, 32)
  t.deepEqual(o.overlayOptions, { chord: { successors: 20 } })
  t.deepEqual(o.overlays, ['chord', 'flooding'])
  t.is(o.nodes, 64)
  t.is(o.queries, 10)
  t.is(o.churn, 0.5)
  t.is(o.fail, 0.1)
  t.is(o.seed, 9)
  t.is(o.out, '/tmp/x')
  t.is(o.join, 'oracle')
  t.deepEqual(o.sweep, [64, 128])
  t.true(o.json)
  t.deepEqual(parseSimArgs(['--overlay', 'all']).overlays, ['central', 'flooding', 'supernode', 'chord'])
})

test('parseSimArgs names the bad flag', (t) => {
  t.throws(() => parseSimArgs([]), { name: 'InvalidOptionsError', message: /--overlay/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--nodes', 'ten']), { message: /--nodes/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--fail', '2']), { message: /--fail/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--bogus']), { message: /--bogus/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--nodes']), { message: /needs a value/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--sweep', '1,x']), { message: /--sweep/ })
  t.throws(() => parseSimArgs(['chord']), { message: /unexpected argument/ })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--options', '{bad']), {
    message: /--options must be JSON/,
  })
  t.throws(() => parseSimArgs(['--overlay', 'chord', '--options', '{"chord":1}']), { message: /--options/ })
})

test('sim exits 2 on bad usage and 0 with the usage on --help', async (t) => {
  const bad = capture()
  t.is(await sim(['--overlay', 'chord', '--nodes', '-1'], bad.io), 2)
  t.regex(bad.stderr(), /--nodes/)
  t.is(await sim(['--overlay', 'nope'], bad.io), 2)
  const badOption = capture()
  t.is(
    await sim(
      ['--overlay', 'chord', '--nodes', '4', '--options', '{"chord":{"successors":0}}'],
      badOption.io,
    ),
    2,
  )
  t.regex(badOption.stderr(), /chord\.successors/)
  const help = capture()
  t.is(await sim(['--help'], help.io), 0)
  t.regex(help.stdout(), /Usage: peerkit sim/)
})

test('sim prints the comparison and writes JSON, Markdown and SVG charts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-sim-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const c = capture()
  const code = await sim(
    ['--overlay', 'central,flooding', '--nodes', '20', '--queries', '10', '--out', dir],
    c.io,
  )
  t.is(code, 0, c.stderr())
  t.regex(c.stdout(), /central/)
  t.regex(c.stdout(), /flooding/)
  const report = JSON.parse(await readFile(join(dir, 'sim.json'), 'utf8')) as SimulationReport
  t.deepEqual(
    report.results.map((r) => r.overlay),
    ['central', 'flooding'],
  )
  t.is(report.results[0]?.queries.issued, 10)
  const md = await readFile(join(dir, 'report.md'), 'utf8')
  t.regex(md, /\| overlay \| nodes \| success/)
  // each overlay's join and options, and what each run cost
  t.regex(md, /\| central \| protocol \| the defaults \|/)
  t.regex(md, /\| flooding \| protocol \| `\{"providerRings":0\}` \|/, "the simulator's own default is shown")
  t.regex(md, /heap MB at the end \| rss MB \|/)
  t.regex(md, /charts\/success-rate\.svg/)
  const charts = await readdir(join(dir, 'charts'))
  t.true(charts.includes('messages-per-query.svg'))
  const svg = await readFile(join(dir, 'charts', 'success-rate.svg'), 'utf8')
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.is((svg.match(/<rect x=/g) ?? []).length, 2)
})

test('sim --json prints one JSON document', async (t) => {
  const c = capture()
  t.is(await sim(['--overlay', 'flooding', '--nodes', '10', '--queries', '5', '--json'], c.io), 0)
  const doc = JSON.parse(c.stdout()) as SimulationReport
  t.is(doc.results.length, 1)
  t.is(doc.results[0]?.overlay, 'flooding')
})
