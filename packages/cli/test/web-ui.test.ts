import { createHash } from 'node:crypto'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test, { type ExecutionContext } from 'ava'
import { type Browser, chromium, type Page } from 'playwright-core'
import { sampleBytes } from '../src/demo/sample-files.js'
import { type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'
import { FAST_OPTIONS } from './helpers/overlay-options.js'

/** The system's Chromium (`.ci/run` installs it); PEERKIT_CHROMIUM names another. */
const CHROMIUM = process.env.PEERKIT_CHROMIUM ?? '/usr/bin/chromium'
/** With PEERKIT_SCREENSHOTS=1 the test saves a picture of each view here, for docs/web-ui.md. */
const SHOTS = fileURLToPath(new URL('../../../../docs/web-ui/', import.meta.url))
const FILM = 'Big.Buck.Bunny.2008.1080p.mkv'
const FILM_SIZE = 12_000_000
const PHOTOS = 'Quokka.Island.Holiday.Photos.zip'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function launch(): Promise<Browser> {
  try {
    await access(CHROMIUM)
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the web page's tests need a real one. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (as .ci/run does), or set PEERKIT_CHROMIUM=/path/to/chromium',
    )
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

async function shot(page: Page, name: string): Promise<void> {
  if (process.env.PEERKIT_SCREENSHOTS !== '1') return
  await mkdir(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

/** Three `peerkit node` processes on 127.0.0.1 (flooding): A and B share the film, C is driven from its page. */
async function threeNodes(t: ExecutionContext) {
  const dir = await tempDir(t, 'web-ui')
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ overlay: 'flooding', options: FAST_OPTIONS.flooding }))
  // C downloads at most 2 MB/s: the film takes about 6 s, long enough to watch the bar move and pause it.
  const slow = join(dir, 'slow.json')
  const options = { ...FAST_OPTIONS.flooding, 'transfer:default': { downloadRate: 2_000_000 } }
  await writeFile(slow, JSON.stringify({ overlay: 'flooding', options }))
  const film = sampleBytes(FILM, FILM_SIZE)
  const daemons: Daemon[] = []
  t.teardown(async () => {
    for (const d of daemons.reverse()) await d.stop()
  })
  const node = async (share: string | undefined, bootstrap: string[], file = config) => {
    const extra = ['--config', file, ...(bootstrap.length ? ['--bootstrap', ...bootstrap] : [])]
    const d = await startDaemon(
      nodeArgs('flooding', undefined, ...extra, ...(share ? ['--share', share] : [])),
    )
    daemons.push(d)
    return d
  }
  const folder = async (name: string) => {
    const f = join(dir, name)
    await mkdir(f)
    await writeFile(join(f, FILM), film)
    return f
  }
  const a = await node(await folder('a'), [])
  const listenA = a.lines.get('listen') ?? []
  const b = await node(await folder('b'), listenA)
  const c = await node(undefined, [...listenA, ...(b.lines.get('listen') ?? [])], slow)
  return { dir, film, a, b, c, first: (d: Daemon, key: string) => d.lines.get(key)?.[0] ?? '' }
}

test.serial(
  'the page of a real node: search, download to 100 % (sha256 checked), share a folder found from another node',
  async (t) => {
    const browser = await launch()
    t.teardown(() => browser.close())
    const { dir, film, a, b, c, first } = await threeNodes(t)
    const api = first(c, 'api')
    const webUrl = first(c, 'web')
    t.true(webUrl.startsWith(`${api}/login?token=`), webUrl)

    // Without the login link the browser gets nothing but 401.
    const stranger = await browser.newPage()
    for (const path of ['/', '/assets/app.js', '/assets/app.css', '/status', '/events']) {
      const r = await stranger.request.get(`${api}${path}`)
      t.is(r.status(), 401, path)
    }
    await stranger.close()

    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(webUrl)
    const search = page.getByRole('searchbox', { name: 'Search' })
    await search.waitFor({ timeout: 15_000 })
    const cookies = await context.cookies()
    t.like(cookies[0], { httpOnly: true, sameSite: 'Strict' })

    // Search until both providers are known (the overlay may still be settling), then download into `out`.
    const out = join(dir, 'downloads')
    await mkdir(out)
    await page.getByLabel('Download to folder').fill(out)
    await search.fill('big buck bunny')
    const results = page.getByRole('table', { name: 'Results' })
    const row = results.getByRole('row').filter({ hasText: FILM })
    let providers = ''
    for (let attempt = 0; attempt < 10 && providers !== '2'; attempt++) {
      await page.getByRole('button', { name: 'Search', exact: true }).click()
      await page
        .getByRole('status')
        .filter({ hasText: /^\s*\d+ found/ })
        .waitFor({ timeout: 15_000 })
      if ((await row.count()) === 1)
        providers = (await row.getByRole('cell').nth(2).textContent())?.trim() ?? ''
    }
    t.is(providers, '2', 'two providers of the film')
    t.is((await row.getByRole('cell').nth(1).textContent())?.trim(), '12.0 MB')
    const columns = await results.getByRole('columnheader').allTextContents()
    t.deepEqual(
      columns.slice(0, 4).map((c) => c.trim()),
      ['Name', 'Size', 'Providers', 'Hops'],
    )
    await shot(page, 'search')

    // Watch the progress bar from the moment the download starts.
    await page.getByRole('link', { name: 'Downloads' }).click()
    await page.getByRole('heading', { name: 'Downloads' }).waitFor()
    // In the page (a string: this package compiles without the DOM's types).
    await page.evaluate(`{
    const seen = (window.seen = [])
    new MutationObserver(() => {
      const bar = document.querySelector('progress')
      if (bar && seen.at(-1) !== bar.value) seen.push(bar.value)
    }).observe(document.body, { subtree: true, childList: true, attributes: true })
  }`)
    await page.getByRole('link', { name: 'Search' }).click()
    await row.getByRole('button', { name: `Download ${FILM}` }).click()
    await page
      .getByRole('status')
      .filter({ hasText: `Downloading ${FILM}` })
      .waitFor({ timeout: 30_000 })
    await page.getByRole('link', { name: 'Downloads' }).click()
    const downloads = page.getByRole('table', { name: 'Downloads' })
    const dl = downloads.getByRole('row').filter({ hasText: FILM })
    // Pause and resume it from its buttons, named by what they do.
    await dl.getByRole('button', { name: `Pause ${FILM}` }).click()
    await dl.getByRole('cell', { name: 'paused' }).waitFor({ timeout: 15_000 })
    t.true(await dl.getByRole('button', { name: `Cancel ${FILM}` }).isVisible())
    const pausedAt = await dl.getByRole('progressbar').getAttribute('value')
    t.not(pausedAt, '100', 'paused before the end')
    await dl.getByRole('button', { name: `Resume ${FILM}` }).click()
    await dl.getByRole('cell', { name: 'done (verified)' }).waitFor({ timeout: 60_000 })
    t.false(await dl.getByRole('button').first().isVisible(), 'no buttons on a finished download')
    const bar = dl.getByRole('progressbar', { name: `${FILM} progress` })
    t.is(await bar.getAttribute('value'), '100')
    t.regex((await dl.textContent()) ?? '', /100 %/)
    const downloadColumns = await downloads.getByRole('columnheader').allTextContents()
    t.deepEqual(
      downloadColumns.slice(0, 5).map((c) => c.trim()),
      ['Name', 'Progress', 'Rate', 'Sources', 'ETA'],
    )
    const seen = (await page.evaluate('window.seen')) as number[]
    t.is(seen.at(-1), 100, `progress seen: ${seen.join(' ')}`)
    t.true(
      seen.some((v) => v > 0 && v < 100),
      `the bar moved through values between 0 and 100: ${seen.join(' ')}`,
    )
    t.deepEqual(
      seen,
      [...seen].sort((x, y) => x - y),
      'the bar only moves forward',
    )
    t.log(`progress seen: ${seen.join(' ')} %`)
    // The file on disk verifies: the same bytes as the providers'.
    const saved = await readFile(join(out, FILM))
    t.is(sha256(saved), sha256(film))
    await shot(page, 'downloads')

    // Share a new folder from the page; another node (A) finds its file.
    const holiday = join(dir, 'holiday')
    await mkdir(holiday)
    await writeFile(join(holiday, PHOTOS), sampleBytes(PHOTOS, 300_000))
    await page.getByRole('link', { name: 'Shares' }).click()
    await page.getByLabel('Folder to share').fill(holiday)
    await page.getByRole('button', { name: 'Share folder' }).click()
    await page
      .getByRole('table', { name: 'Shared files' })
      .getByRole('row')
      .filter({ hasText: PHOTOS })
      .waitFor({ timeout: 30_000 })
    t.true(await page.getByRole('button', { name: `Stop sharing ${holiday}` }).isVisible())
    await shot(page, 'shares')
    let found: { hits: Array<{ name: string; providers: Array<{ id: string }> }> } | undefined
    for (let attempt = 0; attempt < 10 && !found?.hits.length; attempt++) {
      const r = await runBin([
        'search',
        'quokka',
        'holiday',
        '--api',
        first(a, 'api'),
        '--json',
        '--timeout',
        '2000',
      ])
      t.is(r.code, 0, r.stderr)
      found = JSON.parse(r.stdout)
    }
    t.is(found?.hits[0]?.name, PHOTOS)
    t.deepEqual(
      found?.hits[0]?.providers.map((p) => p.id),
      [first(c, 'peer')],
    )

    // The node view: its role, neighbors (A and B), a picture, and the message chart once two samples are in.
    await page.getByRole('link', { name: 'The node' }).click()
    const neighbors = page.getByRole('table', { name: /^Neighbors/ })
    await neighbors
      .getByRole('row')
      .filter({ hasText: first(b, 'peer') })
      .waitFor({ timeout: 15_000 })
    t.regex((await neighbors.textContent()) ?? '', new RegExp(first(a, 'peer')))
    await page.getByRole('img', { name: /This node, a peer, linked to 2 neighbors/ }).waitFor()
    // Three samples (6 s) make a line.
    await page
      .getByRole('img', { name: /over the last [3-9] samples; latest: \d+ sent, \d+ received/ })
      .waitFor({ timeout: 20_000 })
    await shot(page, 'node')

    // A narrow window: nothing sticks out sideways (tables scroll in their own box).
    await page.setViewportSize({ width: 380, height: 800 })
    for (const view of ['Search', 'Downloads', 'Shares', 'The node']) {
      await page.getByRole('link', { name: view, exact: true }).click()
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth',
      )) as number
      const wide =
        overflow > 0
          ? await page.evaluate(
              `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`,
            )
          : ''
      t.true(overflow <= 0, `${view} is ${overflow} px wider than a 380 px window: ${wide}`)
    }
    await page.getByRole('link', { name: 'Downloads' }).click()
    await shot(page, 'narrow-downloads')
    t.deepEqual(pageErrors, [])
  },
)

test.serial('the node view of a chord node draws its place on the ring, with its neighbors', async (t) => {
  const browser = await launch()
  t.teardown(() => browser.close())
  const dir = await tempDir(t, 'web-ui-chord')
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ overlay: 'chord', options: FAST_OPTIONS.chord }))
  const daemons: Daemon[] = []
  t.teardown(async () => {
    for (const d of daemons.reverse()) await d.stop()
  })
  let bootstrap: string[] = []
  for (let i = 0; i < 3; i++) {
    const d = await startDaemon(
      nodeArgs(
        'chord',
        undefined,
        '--config',
        config,
        ...(bootstrap.length ? ['--bootstrap', ...bootstrap] : []),
      ),
    )
    daemons.push(d)
    bootstrap = bootstrap.length ? bootstrap : (d.lines.get('listen') ?? [])
  }
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
  await page.goto(`${daemons[2]?.lines.get('web')?.[0]}`)
  await page.getByRole('link', { name: 'The node' }).click()
  // The ring holds this node (at the angle of its id) and its neighbors, once the ring has settled.
  const ring = page.getByRole('img', { name: /^A ring: this node at \d+°, [12] neighbors on it$/ })
  await ring.waitFor({ timeout: 60_000 })
  const dots = await ring.locator('circle').count()
  t.true(dots >= 3, `the ring, this node and at least one neighbor: ${dots} circles`)
  await page.getByRole('img', { name: /over the last [3-9] samples/ }).waitFor({ timeout: 20_000 })
  await shot(page, 'node-chord')
})
