import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { call, formatBytes, type SharedFolder } from './api.js'

/** The shared folders and their files; add a folder, or stop sharing one. */
export function SharesView({ active }: { active: boolean }) {
  const [folders, setFolders] = useState<SharedFolder[] | undefined>(undefined)
  const [path, setPath] = useState('')
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState('')
  const [error, setError] = useState('')

  const load = async () => {
    try {
      setFolders(await call<SharedFolder[]>('GET', '/shares'))
    } catch (err) {
      setError((err as Error).message)
    }
  }
  // Read again on each visit: folders may come and go from elsewhere (`peerkit node --share`, another tab).
  useEffect(() => {
    if (active) void load()
  }, [active])

  const add = async (e: Event) => {
    e.preventDefault()
    setError('')
    setMessage('')
    setBusy(true)
    try {
      const folder = await call<SharedFolder>('POST', '/shares', { path: path.trim() })
      const left = folder.skippedCount ?? 0
      const reasons = [...new Set((folder.skipped ?? []).map((s) => s.reason))].join(', ')
      setMessage(
        `Sharing ${folder.path}: ${folder.files.length} ${folder.files.length === 1 ? 'file' : 'files'}` +
          (left > 0 ? `; ${left} left out (${reasons})` : ''),
      )
      setPath('')
      await load()
    } catch (err) {
      setError(`Cannot share ${path}: ${(err as Error).message}`)
    }
    setBusy(false)
  }

  const remove = async (folder: SharedFolder) => {
    setError('')
    try {
      await call('DELETE', `/shares?${new URLSearchParams({ path: folder.path })}`)
      setMessage(`Stopped sharing ${folder.path}`)
      await load()
    } catch (err) {
      setError(`Cannot stop sharing ${folder.path}: ${(err as Error).message}`)
    }
  }

  const files = (folders ?? []).flatMap((f) => f.files.map((file) => ({ ...file, folder: f.path })))
  return html`
    <section aria-labelledby="shares-title">
      <h2 id="shares-title">Shares</h2>
      <form onSubmit=${add} class="row">
        <label for="share-path">Folder to share</label>
        <input
          id="share-path"
          type="text"
          placeholder="/home/me/Videos (a folder on the node’s machine)"
          value=${path}
          onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled=${busy || !path.trim().startsWith('/')}>Share folder</button>
      </form>
      <p role="status" class="status">${busy ? 'Hashing the folder…' : message}</p>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      ${folders?.length === 0 && html`<p>Nothing is shared yet.</p>`}
      ${
        (folders?.length ?? 0) > 0 &&
        html`<div class="table-wrap">
            <table>
              <caption>Shared folders</caption>
              <thead>
                <tr>
                  <th scope="col">Folder</th>
                  <th scope="col">Files</th>
                  <th scope="col">Size</th>
                  <th scope="col"><span class="visually-hidden">Action</span></th>
                </tr>
              </thead>
              <tbody>
                ${(folders ?? []).map(
                  (f) => html`<tr key=${f.path}>
                    <td class="name">${f.path}</td>
                    <td>${f.files.length}</td>
                    <td>${formatBytes(f.files.reduce((s, x) => s + x.size, 0))}</td>
                    <td>
                      <button type="button" aria-label=${`Stop sharing ${f.path}`} onClick=${() => remove(f)}>
                        Stop sharing
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>
          <div class="table-wrap">
            <table>
              <caption>Shared files</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Size</th>
                  <th scope="col">Folder</th>
                </tr>
              </thead>
              <tbody>
                ${files.map(
                  (file) => html`<tr key=${`${file.folder}/${file.hash}`}>
                    <td class="name" title=${file.hash}>${file.name}</td>
                    <td>${formatBytes(file.size)}</td>
                    <td class="name">${file.folder}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
      }
    </section>
  `
}
