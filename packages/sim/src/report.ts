import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { maxOf } from './metrics.js'
import type { SimulationResult } from './simulation.js'
import { barChart, lineChart } from './svg-chart.js'

/** Results of one `peerkit sim` invocation: the overlays side by side, and optionally a size sweep. */
export interface SimulationReport {
  /** The command line or call that produced it. */
  command: string
  results: SimulationResult[]
  /** Runs of one overlay at growing sizes (hops against N). */
  sweep?: SimulationResult[]
}

interface Metric {
  file: string
  title: string
  unit: string
  value: (r: SimulationResult) => number
}

/** The per-overlay metrics, one chart each. */
export const METRICS: readonly Metric[] = [
  {
    file: 'success-rate.svg',
    title: 'Search success rate',
    unit: '% of answerable queries',
    value: (r) => r.queries.successRate * 100,
  },
  { file: 'hops.svg', title: 'Hops to the first hit (mean)', unit: 'hops', value: (r) => r.hops.mean },
  {
    file: 'messages-per-query.svg',
    title: 'Messages per query',
    unit: 'messages',
    value: (r) => r.messages.perQuery,
  },
  {
    file: 'first-hit.svg',
    title: 'Time to first hit (mean, virtual)',
    unit: 'ms',
    value: (r) => r.firstHitMs.mean,
  },
  {
    file: 'busiest-messages.svg',
    title: 'Busiest node: messages received in the query phase',
    unit: 'messages',
    value: (r) => r.load.maxMessages,
  },
  {
    file: 'busiest-records.svg',
    title: 'Busiest node: records held',
    unit: 'records',
    value: (r) => r.load.maxRecords,
  },
  {
    file: 'bytes-per-query.svg',
    title: 'Overlay bytes per query',
    unit: 'bytes',
    value: (r) => r.bytes.perQuery,
  },
]

/** Mean lookup hops of a Chord run (its lookups when checked, else its search hops). */
function chordHops(r: SimulationResult): number {
  return r.lookups?.hops.mean ?? r.hops.mean
}

/** The SVG charts of a report, by file name. */
export function reportCharts(report: SimulationReport): Record<string, string> {
  const out: Record<string, string> = {}
  if (report.results.length > 0) {
    for (const m of METRICS)
      out[m.file] = barChart(
        m.title,
        m.unit,
        report.results.map((r) => ({ label: r.overlay, value: m.value(r) })),
      )
  }
  const sweep = report.sweep ?? []
  if (sweep.length > 0) {
    const overlay = sweep[0]?.overlay ?? 'chord'
    const points = sweep.map((r) => [r.options.nodes, chordHops(r)] as const)
    out['hops-vs-n.svg'] = lineChart(
      `${overlay}: mean lookup hops against N`,
      'nodes (N)',
      'hops',
      [
        { name: `${overlay} (simulated)`, points },
        {
          name: '½·log2 N',
          points: sweep.map((r) => [r.options.nodes, Math.log2(r.options.nodes) / 2] as const),
          dashed: true,
        },
      ],
      { logX: true },
    )
  }
  return out
}

const n = (v: number, digits = 2) => (Number.isInteger(v) ? String(v) : v.toFixed(digits))

/** The table printed to the terminal and put in the Markdown report. */
export function resultsTable(results: readonly SimulationResult[], markdown = false): string {
  const header = [
    'overlay',
    'nodes',
    'success',
    'hops',
    'msgs/query',
    'first hit ms',
    'busiest msgs',
    'busiest records',
    'bytes/query',
    'lookups ok',
    'real s',
  ]
  const rows = results.map((r) => [
    r.overlay,
    String(r.options.nodes),
    `${(r.queries.successRate * 100).toFixed(1)}%`,
    r.hops.count === 0 ? '–' : n(r.hops.mean),
    n(r.messages.perQuery, 1),
    n(r.firstHitMs.mean, 0),
    String(r.load.maxMessages),
    String(r.load.maxRecords),
    String(r.bytes.perQuery),
    r.lookups ? `${(r.lookups.correctness * 100).toFixed(1)}%` : '–',
    (r.cost.realMs / 1000).toFixed(1),
  ])
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`
    return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
  }
  const widths = header.map((h, i) =>
    maxOf(
      rows.map((r) => (r[i] as string).length),
      h.length,
    ),
  )
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ')
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The JSON document of a report (stable field names; fields may be added). */
export function reportJson(report: SimulationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`
}

/** The Markdown report, linking the charts in `chartsDir`. */
export function reportMarkdown(report: SimulationReport, chartsDir = 'charts'): string {
  const first = report.results[0] ?? report.sweep?.[0]
  const o = first?.options
  const lines: string[] = ['# peerkit simulation', '', `Command: \`${report.command}\``, '']
  if (o) {
    lines.push(
      `Set-up: ${o.nodes} nodes, ${o.files} files × ${o.replicas} replicas (Zipf ${o.zipf}), ${o.queries} queries, ` +
        `latency exp(mean ${o.latency} ms), churn ${o.churn}/s, fail ${o.fail}, seed ${o.seed}, ` +
        `${o.queryInterval} ms between queries (mean), at most ${o.maxConnections} open connections per peer.`,
      '',
    )
  }
  if (report.results.length > 0) {
    lines.push('| overlay | join | overlay options |', '| --- | --- | --- |')
    for (const r of report.results) {
      const given = Object.keys(r.options.overlayOptions).length > 0
      lines.push(
        `| ${r.overlay} | ${r.options.join} | ${given ? `\`${JSON.stringify(r.options.overlayOptions)}\`` : 'the defaults'} |`,
      )
    }
    lines.push('')
  }
  if (report.results.length > 0) {
    lines.push('## Results', '', resultsTable(report.results, true), '')
    lines.push(
      'Success: answerable queries (some matching file had a live provider) that returned a correct hit. ',
      "Messages per query: the overlay messages of the kinds a search exchanges (`SEARCH_KINDS`: a flood's queries and hits, a lookup's steps and the search it leads to), counted in the query phase. ",
      'Bytes per query: hub traffic in the query phase minus the background (maintenance) rate, the mean of the rates measured before the queries and after them. ',
      'Busiest node: the node (directory server included) that received most overlay messages in the query phase, and the one holding most records.',
      '',
    )
    for (const m of METRICS) lines.push(`![${m.title}](${chartsDir}/${m.file})`, '')
    const chord = report.results.filter((r) => r.lookups)
    if (chord.length > 0) {
      lines.push(
        '## Chord lookups',
        '',
        '| nodes | checked | correct | failed | mean hops | ½·log2 N | mean timeouts | mean latency ms |',
      )
      lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |')
      for (const r of chord) {
        const l = r.lookups as NonNullable<SimulationResult['lookups']>
        // reports written before timeouts were counted have none
        const timeouts = l.timeouts ? n(l.timeouts.mean) : '–'
        lines.push(
          `| ${r.options.nodes} | ${l.checked} | ${l.correct} | ${l.failed} | ${n(l.hops.mean)} | ${n(Math.log2(r.options.nodes) / 2)} | ${timeouts} | ${n(l.latencyMs.mean, 0)} |`,
        )
      }
      lines.push('')
    }
    lines.push(
      '## Cost',
      '',
      '| overlay | real s | virtual s | events | events/s | heap MB (built, warm) | heap per peer KB | heap MB at the end | rss MB |',
    )
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const r of report.results)
      lines.push(
        `| ${r.overlay} | ${(r.cost.realMs / 1000).toFixed(1)} | ${(r.cost.virtualMs / 1000).toFixed(1)} | ${r.cost.events} | ${r.cost.eventsPerRealSecond} | ${(r.cost.heapBytes / 2 ** 20).toFixed(1)} | ${(r.cost.heapBytesPerPeer / 1024).toFixed(1)} | ${(r.cost.heapEndBytes / 2 ** 20).toFixed(1)} | ${(r.cost.rssBytes / 2 ** 20).toFixed(0)} |`,
      )
    lines.push('')
  }
  const sweep = report.sweep ?? []
  if (sweep.length > 0) {
    lines.push(
      `## ${sweep[0]?.overlay} hops against N`,
      '',
      '| N | mean hops | ½·log2 N | ratio | correct lookups |',
    )
    lines.push('| --- | --- | --- | --- | --- |')
    for (const r of sweep) {
      const ideal = Math.log2(r.options.nodes) / 2
      lines.push(
        `| ${r.options.nodes} | ${n(chordHops(r))} | ${n(ideal)} | ${n(chordHops(r) / ideal)} | ${r.lookups ? `${(r.lookups.correctness * 100).toFixed(1)}%` : '–'} |`,
      )
    }
    lines.push('', `![hops against N](${chartsDir}/hops-vs-n.svg)`, '')
  }
  return lines.join('\n')
}

/** Writes `sim.json`, `report.md` and `charts/*.svg` into `dir`; returns the paths written. */
export async function writeReport(report: SimulationReport, dir: string): Promise<string[]> {
  await mkdir(join(dir, 'charts'), { recursive: true })
  const written: string[] = []
  const put = async (path: string, text: string) => {
    await writeFile(path, text)
    written.push(path)
  }
  await put(join(dir, 'sim.json'), reportJson(report))
  await put(join(dir, 'report.md'), reportMarkdown(report))
  for (const [file, svg] of Object.entries(reportCharts(report))) await put(join(dir, 'charts', file), svg)
  return written
}
