import test from 'ava'
import {
  barChart,
  escapeXml,
  lineChart,
  loadFigures,
  maxOf,
  minOf,
  reportCharts,
  reportMarkdown,
  runSimulation,
} from '../src/index.js'

test('a bar chart has one bar and one label per overlay', (t) => {
  const svg = barChart('Hops', 'hops', [
    { label: 'central', value: 1 },
    { label: 'chord', value: 3.5 },
    { label: 'a<b', value: 0 },
  ])
  t.is((svg.match(/<rect x=/g) ?? []).length, 3)
  t.regex(svg, />chord</)
  t.regex(svg, /a&#60;b/)
  t.false(svg.includes('NaN'))
})

test('a line chart draws the series and a dashed reference', (t) => {
  const svg = lineChart(
    'hops vs N',
    'N',
    'hops',
    [
      {
        name: 'chord',
        points: [
          [64, 3.1],
          [256, 4.2],
          [1024, 5.1],
        ],
      },
      {
        name: 'half log',
        points: [
          [64, 3],
          [256, 4],
          [1024, 5],
        ],
        dashed: true,
      },
    ],
    { logX: true },
  )
  t.is((svg.match(/<path /g) ?? []).length, 2)
  t.is((svg.match(/<circle /g) ?? []).length, 3)
  t.regex(svg, /stroke-dasharray/)
  t.regex(svg, />2\^10</)
  t.false(svg.includes('NaN'))
  t.is(escapeXml(`"&'`), '&#34;&#38;&#39;')
})

test('a chord sweep report has the hops-against-N chart and table', async (t) => {
  const sweep = []
  for (const nodes of [16, 32])
    sweep.push(
      await runSimulation({
        overlay: 'chord',
        nodes,
        queries: 20,
        join: 'oracle',
        warmup: 2000,
        settle: 2000,
        seed: 1,
      }),
    )
  const report = { command: 'test', results: [], sweep }
  const charts = reportCharts(report)
  t.deepEqual(Object.keys(charts), ['hops-vs-n.svg'])
  const md = reportMarkdown(report)
  t.regex(md, /\| 16 \| [\d.]+ \| 2 \|/)
  t.regex(md, /\| 32 \| [\d.]+ \| 2\.50 \|/)
})

test('the load figures of 200,000 nodes: no spread on the call stack', (t) => {
  const n = 200_000
  const loads = Array.from({ length: n }, (_, i) => (i * 7919) % 100_003)
  const records = Array.from({ length: n }, (_, i) => i % 11)
  loads[123_456] = 1_000_000
  // What the report did before, Math.max(0, ...loads), overflowed the call stack from about 10^5
  // elements (where exactly depends on the stack size); at 2·10^6 it always does, and a loop does not.
  const huge = new Array<number>(2_000_000).fill(1)
  t.throws(() => Math.max(0, ...huge), { instanceOf: RangeError })
  t.is(maxOf(huge, 0), 1)
  const figures = loadFigures(loads, records)
  t.is(figures.maxMessages, 1_000_000)
  t.is(figures.maxRecords, 10)
  t.true(figures.meanMessages > 0)
  t.deepEqual(loadFigures([], []), { maxMessages: 0, meanMessages: 0, maxRecords: 0, meanRecords: 0 })
  t.is(maxOf(loads), 1_000_000)
  t.is(minOf(records), 0)
})
