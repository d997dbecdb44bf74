import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { call, type PeerRef, type Stats, type Status } from './api.js'

/** Milliseconds between two looks at the node's status and message counts. */
const POLL = 2000
/** Samples the chart keeps (a minute at POLL). */
const SAMPLES = 30

interface Sample {
  sent: number
  received: number
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((s, n) => s + n, 0)

/** The node's role, neighbors, its place in the overlay as a picture, and its messages over time. */
export function NodeView() {
  const [status, setStatus] = useState<Status | undefined>(undefined)
  const [stats, setStats] = useState<Stats | undefined>(undefined)
  const [samples, setSamples] = useState<Sample[]>([])
  const [positions, setPositions] = useState<Map<string, number>>(new Map())
  const [error, setError] = useState('')

  useEffect(() => {
    let stopped = false
    let last: Sample | undefined
    const tick = async () => {
      try {
        const [s, st] = await Promise.all([call<Status>('GET', '/status'), call<Stats>('GET', '/stats')])
        if (stopped) return
        setStatus(s)
        setStats(st)
        setError('')
        const now = { sent: total(st.sent), received: total(st.received) }
        if (last) {
          const delta = { sent: now.sent - last.sent, received: now.received - last.received }
          setSamples((old) => [...old, delta].slice(-SAMPLES))
        }
        last = now
        if (s.overlay === 'chord') setPositions(await ringPositions([s.id, ...s.neighbors.map((n) => n.id)]))
      } catch (err) {
        if (!stopped) setError((err as Error).message)
      }
    }
    void tick()
    const timer = setInterval(tick, POLL)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [])

  if (!status) return html`<section><h2>The node</h2><p>${error || 'Loading…'}</p></section>`
  return html`
    <section aria-labelledby="node-title">
      <h2 id="node-title">The node</h2>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      <dl class="facts">
        <dt>Id</dt><dd class="name">${status.id}</dd>
        <dt>Overlay</dt><dd>${status.overlay}</dd>
        <dt>Role</dt><dd>${status.role}</dd>
        <dt>Addresses</dt><dd class="name">${status.addresses.join(' ') || '(none)'}</dd>
        <dt>Shared files</dt><dd>${status.shares}</dd>
      </dl>
      <div class="pictures">
        <figure>
          ${
            status.overlay === 'chord'
              ? html`<${RingPicture} self=${status.id} neighbors=${status.neighbors} positions=${positions} />`
              : html`<${StarPicture} role=${status.role} neighbors=${status.neighbors} />`
          }
          <figcaption>
            ${status.overlay === 'chord' ? 'Its place on the ring, with its neighbors' : `As a ${status.role}, with its neighbors`}
          </figcaption>
        </figure>
        <figure>
          <${MessageChart} samples=${samples} />
          <figcaption>Messages sent and received every ${POLL / 1000} s</figcaption>
        </figure>
      </div>
      <div class="table-wrap">
        <table>
          <caption>Neighbors (${status.neighbors.length})</caption>
          <thead>
            <tr><th scope="col">Peer</th><th scope="col">Addresses</th></tr>
          </thead>
          <tbody>
            ${status.neighbors.map(
              (n) =>
                html`<tr key=${n.id}><td class="name">${n.id}</td><td class="name">${n.addresses.join(' ')}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${stats && html`<${Counts} stats=${stats} />`}
    </section>
  `
}

/** Messages by kind, sent and received, since the node started. */
function Counts({ stats }: { stats: Stats }) {
  const kinds = [...new Set([...Object.keys(stats.sent), ...Object.keys(stats.received)])].sort()
  return html`<div class="table-wrap">
    <table>
      <caption>Messages since start</caption>
      <thead>
        <tr><th scope="col">Kind</th><th scope="col">Sent</th><th scope="col">Received</th></tr>
      </thead>
      <tbody>
        ${kinds.map(
          (k) =>
            html`<tr key=${k}><td>${k}</td><td>${stats.sent[k] ?? 0}</td><td>${stats.received[k] ?? 0}</td></tr>`,
        )}
      </tbody>
    </table>
  </div>`
}

/**
 * Where chord puts each node: the first 32 bits of SHA-256(PeerId) as a
 * fraction of the ring (chord's node id is that hash, truncated). Needs
 * crypto.subtle, which a browser gives on localhost and https only.
 */
async function ringPositions(ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (!globalThis.crypto?.subtle) return out
  for (const id of ids) {
    const digest = new DataView(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)))
    out.set(id, digest.getUint32(0) / 2 ** 32)
  }
  return out
}

const short = (id: string) => id.slice(0, 6)

function RingPicture({
  self,
  neighbors,
  positions,
}: {
  self: string
  neighbors: PeerRef[]
  positions: Map<string, number>
}) {
  const r = 80
  const at = (f: number) => ({
    x: 100 + r * Math.sin(2 * Math.PI * f),
    y: 100 - r * Math.cos(2 * Math.PI * f),
  })
  const placed = neighbors.filter((n) => positions.has(n.id))
  const me = positions.get(self)
  const label = `A ring: this node at ${me === undefined ? 'an unknown place' : `${Math.round(me * 360)}°`}, ${placed.length} neighbors on it`
  return html`<svg viewBox="0 0 200 200" role="img" aria-label=${label} class="picture">
    <circle cx="100" cy="100" r=${r} class="ring" />
    ${placed.map((n) => {
      const p = at(positions.get(n.id) ?? 0)
      return html`<g key=${n.id}><circle cx=${p.x} cy=${p.y} r="5" class="peer" /><text x=${p.x} y=${p.y - 8} class="label">${short(n.id)}</text></g>`
    })}
    ${
      me !== undefined &&
      html`<g><circle cx=${at(me).x} cy=${at(me).y} r="8" class="self" /><text x="100" y="104" class="label strong">this node</text></g>`
    }
  </svg>`
}

function StarPicture({ role, neighbors }: { role: string; neighbors: PeerRef[] }) {
  // A leaf hangs below its supernodes; any other role sits in the middle of its neighbors.
  const leaf = role === 'leaf' || role === 'client'
  const self = leaf ? { x: 100, y: 160 } : { x: 100, y: 100 }
  const shown = neighbors.slice(0, 16)
  const spots = shown.map((n, i) =>
    leaf
      ? { n, x: 100 + (i - (shown.length - 1) / 2) * Math.min(40, 160 / Math.max(1, shown.length)), y: 50 }
      : {
          n,
          x: 100 + 75 * Math.sin((2 * Math.PI * i) / shown.length),
          y: 100 - 75 * Math.cos((2 * Math.PI * i) / shown.length),
        },
  )
  return html`<svg viewBox="0 0 200 200" role="img" aria-label=${`This node, a ${role}, linked to ${neighbors.length} neighbors`} class="picture">
    ${spots.map((s) => html`<line key=${`l${s.n.id}`} x1=${self.x} y1=${self.y} x2=${s.x} y2=${s.y} class="link" />`)}
    ${spots.map(
      (s) =>
        html`<g key=${s.n.id}><circle cx=${s.x} cy=${s.y} r="7" class="peer" /><text x=${s.x} y=${s.y - 10} class="label">${short(s.n.id)}</text></g>`,
    )}
    <circle cx=${self.x} cy=${self.y} r=${role === 'supernode' ? 14 : 10} class="self" />
    <text x=${self.x} y=${self.y + 26} class="label strong">${role}</text>
  </svg>`
}

function MessageChart({ samples }: { samples: Sample[] }) {
  const w = 300
  const hgt = 120
  const max = Math.max(1, ...samples.flatMap((s) => [s.sent, s.received]))
  const line = (pick: (s: Sample) => number) =>
    samples
      .map((s, i) => `${(i / Math.max(1, samples.length - 1)) * w},${hgt - (pick(s) / max) * (hgt - 10)}`)
      .join(' ')
  const last = samples[samples.length - 1]
  const label = last
    ? `Messages per ${POLL / 1000} s over the last ${samples.length} samples; latest: ${last.sent} sent, ${last.received} received`
    : 'Messages per interval: waiting for the first samples'
  return html`<svg viewBox=${`0 0 ${w} ${hgt}`} role="img" aria-label=${label} class="chart">
    <line x1="0" y1=${hgt} x2=${w} y2=${hgt} class="axis" />
    <polyline points=${line((s) => s.sent)} class="sent" />
    <polyline points=${line((s) => s.received)} class="received" />
    <text x="4" y="12" class="label start">max ${max}</text>
    <text x=${w - 4} y="12" class="label end sent-text">sent</text>
    <text x=${w - 4} y="26" class="label end received-text">received</text>
  </svg>`
}
