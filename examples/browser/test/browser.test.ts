import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hit, Peer } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import type { Browser, Page } from 'playwright-core'
import { launch, nodePeers, type OverlayName, overlayOptions, servePage } from './helpers/network.js'

// A browser tab as a peer, in a real Chromium (playwright-core, the system's Chromium):
// two tabs and three Node peers on each overlay, joined over WebSocket.

const WAIT = 60_000
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

let browser: Browser
test.before(async () => {
  browser = await launch()
})
test.after.always(async () => {
  // A worker that is still running a minute after its last hook says what keeps it alive (a CI run once
  // hung here after every test had passed). The timer is unref'd: it never keeps the worker alive itself.
  setTimeout(() => {
    const resources = process.getActiveResourcesInfo().join(', ')
    process.stderr.write(
      `browser.test: still running 60 s after the last hook; active resources: ${resources}\n`,
    )
  }, 60_000).unref()
  await browser?.close()
})

async function tab(t: ExecutionContext, url: string): Promise<Page> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const logs: string[] = []
  page.on('console', (m) => logs.push(m.text()))
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`))
  await page.goto(url)
  try {
    await page.waitForFunction(
      () => document.body.dataset.ready === 'true' || document.body.dataset.failed,
      null,
      {
        timeout: WAIT,
      },
    )
  } catch (err) {
    t.log(logs.join('\n'))
    throw err
  }
  const failed = await page.evaluate(() => document.body.dataset.failed)
  if (failed) {
    t.log(logs.join('\n'))
    throw new Error(`the page failed to join: ${failed}`)
  }
  return page
}

/** Searches from a tab until `name` is found with at least `providers` providers (bounded). */
async function tabSearch(page: Page, name: string, providers = 1): Promise<Hit> {
  const deadline = Date.now() + WAIT
  for (;;) {
    const hits = (await page.evaluate(([q]) => (window as any).peerkit.search(q, 3000), [name])) as Hit[]
    const hit = hits.find((h) => h.name === name && h.providers.length >= providers)
    if (hit) return hit
    if (Date.now() > deadline) throw new Error(`the tab did not find ${name} with ${providers} providers`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

async function nodeSearch(peer: Peer, name: string): Promise<Hit> {
  const deadline = Date.now() + WAIT
  for (;;) {
    for await (const hit of peer.search(name, { timeout: 3000 })) if (hit.name === name) return hit
    if (Date.now() > deadline) throw new Error(`${peer.id} did not find ${name}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Shares `bytes` as `name` from a tab (the page copies it to OPFS and hashes it in its worker). */
async function tabShare(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  await page.evaluate(
    async ([n, b64]) => {
      const bin = atob(b64 as string)
      const data = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i)
      await (window as any).peerkit.share(new File([data], n as string))
    },
    [name, Buffer.from(bytes).toString('base64')],
  )
}

for (const overlay of ['flooding', 'chord', 'supernode', 'central'] as OverlayName[]) {
  test.serial(
    `${overlay}: two tabs and three Node peers share and download both ways (WebSocket and WebRTC)`,
    async (t) => {
      const dir = await mkdtemp(join(tmpdir(), `peerkit-browser-${overlay}-`))
      t.teardown(() => rm(dir, { recursive: true, force: true }))
      const net = await nodePeers(t, overlay, dir)
      const base = await servePage(t)
      // The tabs serve at the Node peers' 750 kB/s too: tab A's download takes seconds from either source, so
      // both take part even when the tab's WebSocket dial to the Node peer is slow (a loaded CI run saw tab B,
      // unlimited over WebRTC, send all 3 MiB before the Node peer's first chunk).
      const tabOptions = { ...overlayOptions(overlay), default: { uploadRate: 750_000 } }
      const query = `?overlay=${overlay}&bootstrap=${encodeURIComponent(net.bootstrap.join(','))}&options=${encodeURIComponent(JSON.stringify(tabOptions))}`
      const [a, b] = [await tab(t, base + query), await tab(t, base + query)]

      // A Node peer and tab B share the same film; tab A downloads it from both at once.
      const film = randomBytes(3 * 1024 * 1024 + 12345)
      const films = join(dir, 'films')
      await mkdir(films, { recursive: true })
      await writeFile(join(films, `film-${overlay}.mkv`), film)
      await (net.peers[1] as Peer).share(films)
      await tabShare(b, `film-${overlay}.mkv`, film)
      const hit = await tabSearch(a, `film-${overlay}.mkv`, 2)
      const got = (await a.evaluate((h) => (window as any).peerkit.download(h), hit)) as {
        path: string
        sources: { id: string; bytes: number }[]
      }
      t.is(
        await a.evaluate((p) => (window as any).peerkit.digest(p), got.path),
        sha(film),
        'the bytes verify',
      )
      t.log(`${overlay}: sources ${got.sources.map((s) => `${s.id.slice(0, 6)}=${s.bytes}`).join(' ')}`)
      const tabB = (await b.evaluate(() => (window as any).peerkit.status().id)) as string
      t.true(
        got.sources.some((s) => s.id === tabB && s.bytes > 0),
        'the other tab sent part of it (over WebRTC)',
      )
      t.true(
        got.sources.some((s) => s.id === (net.peers[1] as Peer).id && s.bytes > 0),
        'the Node peer sent part of it',
      )

      // A Node peer downloads a file only tab A shares: one the tab never dialed, so it reaches
      // the tab over WebRTC, signalled through a peer both are connected to.
      const note = randomBytes(700_000)
      await tabShare(a, `note-${overlay}.txt`, note)
      const fetcher = net.peers[2] as Peer
      const noteHit = await nodeSearch(fetcher, `note-${overlay}.txt`)
      const out = join(dir, 'note.txt')
      await fetcher.download(noteHit.hash, { to: out, providers: noteHit.providers, size: noteHit.size }).done
      t.is(sha(await readFile(out)), sha(note), 'the Node peer got the tab’s file')
    },
  )
}

test.serial(
  'a tab closed mid-transfer is survived: the download finishes from the Node peer, verified',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-browser-close-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const net = await nodePeers(t, 'flooding', dir)
    const base = await servePage(t)
    // Tab B serves at the Node peer's 750 kB/s: unlimited over WebRTC, it could send the whole file
    // between two polls of the progress below, and the Node peer would have nothing left to send.
    const tabOptions = { ...overlayOptions('flooding'), default: { uploadRate: 750_000 } }
    const query = `?overlay=flooding&bootstrap=${encodeURIComponent(net.bootstrap.join(','))}&options=${encodeURIComponent(JSON.stringify(tabOptions))}`
    const [a, b] = [await tab(t, base + query), await tab(t, base + query)]
    // 6 MiB: about 8 s from the Node peer alone (750 kB/s), so tab B is closed while both send.
    const film = randomBytes(6 * 1024 * 1024)
    const films = join(dir, 'films')
    await mkdir(films, { recursive: true })
    await writeFile(join(films, 'long-film.mkv'), film)
    await (net.peers[1] as Peer).share(films)
    await tabShare(b, 'long-film.mkv', film)
    const hit = await tabSearch(a, 'long-film.mkv', 2)
    await a.evaluate((h) => (window as any).peerkit.start(h), hit)
    const deadline = Date.now() + WAIT
    while (
      ((await a.evaluate((h) => (window as any).peerkit.progress(h), hit.hash)) as number) <
      film.length / 5
    ) {
      if (Date.now() > deadline) throw new Error('the download did not reach 20 %')
      await new Promise((r) => setTimeout(r, 100))
    }
    await b.context().close() // tab B goes away with its WebRTC connection, mid-transfer
    const got = (await a.evaluate((h) => (window as any).peerkit.wait(h), hit.hash)) as {
      path: string
      sources: { id: string; bytes: number }[]
    }
    t.is(await a.evaluate((p) => (window as any).peerkit.digest(p), got.path), sha(film), 'the bytes verify')
    const fromNode = got.sources.find((s) => s.id === (net.peers[1] as Peer).id)?.bytes ?? 0
    t.log(`sources ${got.sources.map((s) => `${s.id.slice(0, 6)}=${s.bytes}`).join(' ')}`)
    t.true(fromNode > 0 && fromNode <= film.length, `the Node peer sent part of it (${fromNode} bytes)`)
  },
)

test.serial(
  'the page itself: a file dropped on it is shared; a search, a click and a Save button for a download with progress',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-browser-ui-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const net = await nodePeers(t, 'flooding', dir)
    const base = await servePage(t)
    const query = `?overlay=flooding&bootstrap=${encodeURIComponent(net.bootstrap.join(','))}&options=${encodeURIComponent(JSON.stringify(overlayOptions('flooding')))}`
    const page = await tab(t, base + query)

    // Drop a file on the drop zone, as a user would from the desktop.
    const dropped = randomBytes(200_000)
    const transfer = await page.evaluateHandle((b64) => {
      const bin = atob(b64)
      const data = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i)
      const dt = new DataTransfer()
      dt.items.add(new File([data], 'dropped-notes.txt'))
      return dt
    }, Buffer.from(dropped).toString('base64'))
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer })
    await page.getByText('dropped-notes.txt shared').waitFor({ timeout: WAIT })
    const hit = await nodeSearch(net.peers[2] as Peer, 'dropped-notes.txt')
    const out = join(dir, 'dropped.txt')
    await (net.peers[2] as Peer).download(hit.hash, { to: out, providers: hit.providers, size: hit.size })
      .done
    t.is(sha(await readFile(out)), sha(dropped), 'a Node peer got the dropped file')

    // Search from the form, click the result's Download button, watch the bar fill.
    const film = randomBytes(2 * 1024 * 1024)
    const films = join(dir, 'films')
    await mkdir(films, { recursive: true })
    await writeFile(join(films, 'clicked-film.mkv'), film)
    await (net.peers[1] as Peer).share(films)
    const button = page.getByRole('button', { name: 'Download clicked-film.mkv' })
    const deadline = Date.now() + WAIT
    while (!(await button.isVisible())) {
      if (Date.now() > deadline) throw new Error('the search form never listed the film')
      await page.fill('#query', 'clicked film')
      await page.click('#search button')
      await button.waitFor({ timeout: 4000 }).catch(() => {}) // not listed yet: search again
    }
    await button.click()
    await page.getByRole('button', { name: 'Save clicked-film.mkv' }).waitFor({ timeout: WAIT })
    t.is(
      await page
        .locator('#downloads progress')
        .first()
        .evaluate((p) => (p as HTMLProgressElement).value),
      film.length,
    )
    t.regex((await page.locator('#downloads li').first().textContent()) ?? '', /clicked-film\.mkv: verified/)
    const path = '/downloads/clicked-film.mkv'
    t.is(await page.evaluate((p) => (window as any).peerkit.digest(p), path), sha(film))
  },
)
