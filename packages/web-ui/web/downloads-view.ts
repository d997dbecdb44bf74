import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { baseName, call, type DownloadStatus, type DownloadUpdate, formatBytes, formatEta } from './api.js'

/** One download as the table shows it. */
export interface Row {
  hash: string
  path: string
  bytes: number
  size: number
  rate: number
  eta?: number
  sources: number
  state: string
  note?: string
}

/** States in which a download can still be paused, resumed or cancelled. */
const ACTIVE = new Set(['queued', 'running', 'waiting', 'paused'])

export function rowOf(d: DownloadStatus): Row {
  const row: Row = {
    hash: d.hash,
    path: d.path,
    bytes: d.bytes,
    size: d.size,
    rate: 0,
    sources: 0,
    state: d.state,
  }
  if (d.reason) row.note = d.reason
  return row
}

/** The row after one event of `GET /events`. */
export function updateRow(row: Row | undefined, u: DownloadUpdate): Row {
  const base: Row = row ?? {
    hash: u.hash,
    path: u.path ?? '',
    bytes: 0,
    size: 0,
    rate: 0,
    sources: 0,
    state: 'running',
  }
  const e = u.event
  switch (e.type) {
    case 'progress':
      return {
        ...base,
        bytes: e.bytes,
        size: e.size,
        rate: e.rate,
        eta: e.eta,
        sources: e.sources.length,
        state: base.state === 'running' ? 'running' : base.state,
      }
    case 'state':
      // The final states come with their own done/error event, which says more.
      if (!ACTIVE.has(e.state)) return base
      return { ...base, state: e.state, note: e.reason, rate: e.state === 'running' ? base.rate : 0 }
    case 'done':
      return {
        ...base,
        path: e.result.path,
        bytes: e.result.size,
        size: e.result.size,
        rate: 0,
        eta: undefined,
        state: 'done',
        note: e.result.verified ? 'verified' : '',
      }
    case 'error':
      return {
        ...base,
        path: u.path ?? base.path,
        rate: 0,
        eta: undefined,
        state: e.error.name === 'AbortError' ? 'cancelled' : 'failed',
        note: e.error.message,
      }
  }
}

/** Every download of the node with its progress, updated live from the node's event stream. */
export function DownloadsView({ rows, live }: { rows: Row[]; live: boolean }) {
  const [error, setError] = useState('')
  const act = async (row: Row, action: 'Pause' | 'Resume' | 'Cancel') => {
    setError('')
    const route =
      action === 'Cancel' ? `/downloads/${row.hash}` : `/downloads/${row.hash}/${action.toLowerCase()}`
    try {
      await call(action === 'Cancel' ? 'DELETE' : 'POST', route)
    } catch (err) {
      setError(`Cannot ${action.toLowerCase()} ${baseName(row.path)}: ${(err as Error).message}`)
    }
  }
  const button = (row: Row, name: string, action: 'Pause' | 'Resume' | 'Cancel') =>
    html`<button type="button" aria-label=${`${action} ${name}`} onClick=${() => act(row, action)}>
      ${action}
    </button>`
  return html`
    <section aria-labelledby="downloads-title">
      <h2 id="downloads-title">Downloads</h2>
      <p class="status">${live ? 'Live: updates as they happen.' : 'Connecting to the node…'}</p>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      ${rows.length === 0 && html`<p>No downloads yet: start one from Search.</p>`}
      ${
        rows.length > 0 &&
        html`<div class="table-wrap">
          <table>
            <caption>Downloads</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Progress</th>
                <th scope="col">Rate</th>
                <th scope="col">Sources</th>
                <th scope="col">ETA</th>
                <th scope="col">State</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${rows.map((row) => {
                const name = baseName(row.path) || row.hash.slice(0, 12)
                const pct = row.size > 0 ? Math.floor((row.bytes / row.size) * 100) : 0
                return html`<tr key=${row.hash}>
                  <td class="name" title=${row.path}>${name}</td>
                  <td>
                    <progress max="100" value=${pct} aria-label=${`${name} progress`}></progress>
                    <span class="pct">${pct} %</span>
                  </td>
                  <td>${row.state === 'running' ? `${formatBytes(row.rate)}/s` : '—'}</td>
                  <td>${row.sources}</td>
                  <td>${row.state === 'running' ? formatEta(row.eta) : '—'}</td>
                  <td title=${row.note ?? ''}>
                    ${row.state}${row.note === 'verified' ? ' (verified)' : ''}
                    ${ACTIVE.has(row.state) && row.note && html`<span class="reason">: ${row.note}</span>`}
                  </td>
                  <td class="actions">
                    ${ACTIVE.has(row.state) && row.state !== 'paused' && button(row, name, 'Pause')}
                    ${row.state === 'paused' && button(row, name, 'Resume')}
                    ${ACTIVE.has(row.state) && button(row, name, 'Cancel')}
                  </td>
                </tr>`
              })}
            </tbody>
          </table>
        </div>`
      }
    </section>
  `
}
