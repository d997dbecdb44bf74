// The node's page: Search, Downloads, Shares and The node, in Preact with htm (no build-time JSX).
import { html } from 'htm/preact'
import { render } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { call, type DownloadStatus, type DownloadUpdate, NodeError, streamLines } from './api.js'
import { DownloadsView, type Row, rowOf, updateRow } from './downloads-view.js'
import { NodeView } from './node-view.js'
import { SearchView } from './search-view.js'
import { SharesView } from './shares-view.js'

const VIEWS = [
  { id: 'search', label: 'Search' },
  { id: 'downloads', label: 'Downloads' },
  { id: 'shares', label: 'Shares' },
  { id: 'node', label: 'The node' },
] as const
type ViewId = (typeof VIEWS)[number]['id']

function viewOfHash(): ViewId {
  const id = location.hash.slice(1)
  return VIEWS.some((v) => v.id === id) ? (id as ViewId) : 'search'
}

function App() {
  const [view, setView] = useState<ViewId>(viewOfHash())
  const [rows, setRows] = useState<Map<string, Row>>(new Map())
  const [live, setLive] = useState(false)
  const [error, setError] = useState('')
  const rowsRef = useRef(rows)
  rowsRef.current = rows

  useEffect(() => {
    const onHash = () => setView(viewOfHash())
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])

  // The downloads the node runs, then every event of every download, live, for as long as the page is open.
  useEffect(() => {
    const abort = new AbortController()
    const apply = (u: DownloadUpdate) =>
      setRows((old) => {
        const next = new Map(old)
        next.set(u.hash, updateRow(next.get(u.hash), u))
        return next
      })
    const follow = async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          const list = await call<DownloadStatus[]>('GET', '/downloads')
          setRows((old) => {
            const next = new Map(old)
            for (const d of list) if (!next.has(d.hash)) next.set(d.hash, rowOf(d))
            return next
          })
          setLive(true)
          await streamLines('/events', (line) => apply(line as DownloadUpdate), abort.signal)
        } catch (err) {
          if (abort.signal.aborted) return
          if (err instanceof NodeError && err.status === 401) return setError(signedOut)
        }
        setLive(false)
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)))
      }
    }
    void follow()
    return () => abort.abort()
  }, [])

  const started = (d: DownloadStatus) =>
    setRows((old) => new Map(old).set(d.hash, { ...rowOf(d), ...old.get(d.hash), path: d.path }))

  const signOut = async () => {
    await call('POST', '/logout')
    setError(signedOut)
  }

  // Search, Downloads and Shares stay mounted (hidden), so their state outlives a visit elsewhere.
  return html`
    <header>
      <h1>peerkit node</h1>
      <nav aria-label="Views">
        ${VIEWS.map(
          (v) =>
            html`<a href=${`#${v.id}`} aria-current=${view === v.id ? 'page' : undefined}>${v.label}</a>`,
        )}
      </nav>
      <button type="button" class="quiet" onClick=${signOut}>Sign out</button>
    </header>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <main>
      <div hidden=${view !== 'search'}><${SearchView} onStarted=${started} /></div>
      <div hidden=${view !== 'downloads'}><${DownloadsView} rows=${[...rows.values()]} live=${live} /></div>
      <div hidden=${view !== 'shares'}><${SharesView} active=${view === 'shares'} /></div>
      ${view === 'node' && html`<${NodeView} />`}
    </main>
  `
}

const signedOut =
  'Signed out: this page needs a login link. Run `peerkit status --web` as the node’s user and open the link it prints.'

const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(html`<${App} />`, root)
}
