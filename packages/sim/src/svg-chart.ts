import { maxOf, minOf } from './metrics.js'

/** One bar. */
export interface Bar {
  label: string
  value: number
}

/** One line of a line chart. */
export interface Line {
  name: string
  points: ReadonlyArray<readonly [number, number]>
  /** Drawn dashed, without markers (a reference curve). */
  dashed?: boolean
}

const WIDTH = 560
const HEIGHT = 320
const MARGIN = { top: 40, right: 20, bottom: 50, left: 64 }
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f']
const FONT = 'font-family="system-ui, sans-serif"'

/** Escapes text for SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Rounds a maximum up to 1, 2 or 5 × 10^k, and gives 5 tick values from 0. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1]
  const raw = max / 4
  const pow = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow
  const out: number[] = []
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(v)
  if ((out[out.length - 1] as number) < max) out.push(out.length * step)
  return out
}

function fmt(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`
  return `${+v.toPrecision(3)}`
}

function frame(title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="12">\n` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>\n` +
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>\n` +
    `${body}</svg>\n`
  )
}

function yAxis(tickValues: number[], y: (v: number) => number, label: string): string {
  let out = ''
  for (const v of tickValues) {
    const py = y(v).toFixed(1)
    out += `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>\n`
    out += `<text x="${MARGIN.left - 6}" y="${py}" dy="4" text-anchor="end" fill="#555">${fmt(v)}</text>\n`
  }
  const cy = (MARGIN.top + HEIGHT - MARGIN.bottom) / 2
  out += `<text transform="translate(16 ${cy}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(label)}</text>\n`
  return out
}

/** A bar chart, one bar per label (the overlays side by side), with the values written above the bars. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const t = ticks(
    maxOf(
      bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)),
      0,
    ),
  )
  const top = t[t.length - 1] as number
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH
  let body = yAxis(t, y, unit)
  const slot = plotW / Math.max(1, bars.length)
  const w = Math.min(80, slot * 0.6)
  bars.forEach((b, i) => {
    const v = Number.isFinite(b.value) ? Math.max(0, b.value) : 0
    const x = MARGIN.left + slot * i + (slot - w) / 2
    const h = (v / top) * plotH
    body += `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${escapeXml(`${b.label}: ${b.value}`)}</title></rect>\n`
    body += `<text x="${(x + w / 2).toFixed(1)}" y="${(y(v) - 5).toFixed(1)}" text-anchor="middle">${fmt(b.value)}</text>\n`
    body += `<text x="${(x + w / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle">${escapeXml(b.label)}</text>\n`
  })
  body += `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>\n`
  return frame(title, body)
}

/** A line chart; `logX` spaces the x axis by log2 (network sizes 2^6 … 2^14). */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  lines: readonly Line[],
  options: { logX?: boolean } = {},
): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const all = lines.flatMap((l) => l.points)
  const fx = (x: number) => (options.logX ? Math.log2(Math.max(1, x)) : x)
  const xs = all.map(([x]) => fx(x))
  const x0 = minOf(xs)
  const x1 = maxOf(xs)
  const t = ticks(
    maxOf(
      all.map(([, v]) => v),
      0,
    ),
  )
  const top = t[t.length - 1] as number
  const x = (v: number) => MARGIN.left + (x1 === x0 ? plotW / 2 : ((fx(v) - x0) / (x1 - x0)) * plotW)
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH
  let body = yAxis(t, y, yLabel)
  const xTicks = [...new Set(all.map(([v]) => v))].sort((a, b) => a - b)
  for (const v of xTicks) {
    const label = options.logX && Number.isInteger(Math.log2(v)) ? `2^${Math.log2(v)}` : fmt(v)
    body += `<text x="${x(v).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" fill="#555">${label}</text>\n`
  }
  body += `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>\n`
  lines.forEach((line, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = [...line.points].sort((a, b) => a[0] - b[0])
    const d = pts
      .map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(' ')
    body += `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>\n`
    if (!line.dashed)
      for (const [px, py] of pts)
        body += `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${line.name}: ${px} → ${py}`)}</title></circle>\n`
    const ly = MARGIN.top + 4 + i * 16
    body += `<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>\n`
    body += `<text x="${MARGIN.left + 40}" y="${ly + 4}">${escapeXml(line.name)}</text>\n`
  })
  body += `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>\n`
  return frame(title, body)
}
