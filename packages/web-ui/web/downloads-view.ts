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

export function rowOf(d: DownloadStatus): Row {
  return { hash: d.hash, path: d.path, bytes: d.bytes, size: d.size, rate: 0, sources: 0, state: d.state }
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
  const cancel = async (row: Row) => {
    setError('')
    try {
      await call('DELETE', `/downloads/${row.hash}`)
    } catch (err) {
      setError(`Cannot cancel ${baseName(row.path)}: ${(err as Error).message}`)
    }
  }
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
                <th scope="col"><span class="visually-hidden">Action</span></th>
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
                  <td title=${row.note ?? ''}>${row.state}${row.note === 'verified' ? ' (verified)' : ''}</td>
                  <td>
                    ${
                      row.state === 'running' &&
                      html`<button type="button" aria-label=${`Cancel ${name}`} onClick=${() => cancel(row)}>
                        Cancel
                      </button>`
                    }
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
