import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { call, type DownloadStatus, formatBytes, type Hit, streamLines } from './api.js'

const FOLDER_KEY = 'peerkit.downloadFolder'

/** The search box, the hits as a table, and a download button per hit into the folder chosen above. */
export function SearchView({ onStarted }: { onStarted: (d: DownloadStatus) => void }) {
  const [query, setQuery] = useState('')
  const [hits, setHits] = useState<Hit[]>([])
  const [state, setState] = useState<'idle' | 'searching' | 'done'>('idle')
  const [folder, setFolder] = useState(localStorage.getItem(FOLDER_KEY) ?? '')
  const [message, setMessage] = useState('')
  const [error, setError] = useState('')
  const running = useRef<AbortController | undefined>(undefined)
  useEffect(() => () => running.current?.abort(), [])

  const search = async (e: Event) => {
    e.preventDefault()
    const q = query.trim()
    if (!q) return
    running.current?.abort()
    const abort = new AbortController()
    running.current = abort
    setHits([])
    setError('')
    setState('searching')
    const byHash = new Map<string, Hit>()
    try {
      await streamLines(
        `/search?${new URLSearchParams({ q, timeout: '3000' })}`,
        (line) => {
          const l = line as Hit & { error?: { message: string } }
          if (l.error) return setError(`The search failed: ${l.error.message}`)
          // A hash may come again with more providers: the latest line wins.
          byHash.set(l.hash, l)
          setHits([...byHash.values()])
        },
        abort.signal,
      )
    } catch (err) {
      if (!abort.signal.aborted) setError((err as Error).message)
    }
    if (!abort.signal.aborted) setState('done')
  }

  const download = async (hit: Hit) => {
    setError('')
    setMessage('')
    localStorage.setItem(FOLDER_KEY, folder)
    try {
      const r = await call<{ hash: string; path: string }>('POST', '/downloads', {
        hash: hit.hash,
        out: folder,
      })
      onStarted({ hash: r.hash, path: r.path, bytes: 0, size: hit.size, state: 'running' })
      setMessage(`Downloading ${hit.name} to ${r.path}`)
    } catch (err) {
      setError(`Cannot download ${hit.name}: ${(err as Error).message}`)
    }
  }

  return html`
    <section aria-labelledby="search-title">
      <h2 id="search-title">Search</h2>
      <form role="search" onSubmit=${search} class="row">
        <input
          type="search"
          aria-label="Search"
          placeholder="keywords or a content hash"
          value=${query}
          onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      <div class="row">
        <label for="folder">Download to folder</label>
        <input
          id="folder"
          type="text"
          placeholder="/home/me/Downloads (a folder on the node’s machine)"
          value=${folder}
          onInput=${(e: Event) => setFolder((e.target as HTMLInputElement).value)}
        />
      </div>
      <p role="status" class="status">
        ${state === 'searching' ? `Searching… ${hits.length} found` : state === 'done' ? `${hits.length} found` : ''}
        ${message && html` ${message}`}
      </p>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      ${
        hits.length > 0 &&
        html`<div class="table-wrap">
          <table>
            <caption>Results</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">Providers</th>
                <th scope="col">Hops</th>
                <th scope="col"><span class="visually-hidden">Action</span></th>
              </tr>
            </thead>
            <tbody>
              ${hits.map(
                (hit) => html`<tr key=${hit.hash}>
                  <td class="name" title=${hit.hash}>${hit.name}</td>
                  <td>${formatBytes(hit.size)}</td>
                  <td>${hit.providers.length}</td>
                  <td>${hit.hops ?? '—'}</td>
                  <td>
                    <button
                      type="button"
                      aria-label=${`Download ${hit.name}`}
                      disabled=${!folder.startsWith('/')}
                      title=${folder.startsWith('/') ? '' : 'Choose a folder (an absolute path) first'}
                      onClick=${() => download(hit)}
                    >
                      Download
                    </button>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`
      }
    </section>
  `
}
