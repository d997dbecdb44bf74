import { createHash } from 'node:crypto'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { sampleBytes } from '../src/demo/sample-files.js'
import { type Daemon, nodeArgs, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'
import { FAST_OPTIONS } from './helpers/overlay-options.js'

/**
 * The web page in Firefox. Playwright drives only its own patched Firefox, which cannot be downloaded here, so
 * this file drives the system's Firefox ESR over WebDriver BiDi with puppeteer-core. The full walk-through runs
 * in Chromium (web-ui.test.ts); this one checks what differs between engines: the page loads and logs in,
 * the search finds by role, a download reaches 100 % and verifies, and a narrow window does not overflow.
 */
const FIREFOX = process.env.PEERKIT_FIREFOX ?? '/usr/bin/firefox-esr'
const FILM = 'Sintel.2010.720p.mkv'
const FILM_SIZE = 3_000_000

/** The results table, found in the page by its caption (a string: this package compiles without the DOM's types). */
const RESULTS = `[...document.querySelectorAll('table')].find((t) => t.caption?.textContent.trim() === 'Results')`

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function launch(): Promise<Browser> {
  try {
    await access(FIREFOX)
  } catch {
    throw new Error(
      `no Firefox at ${FIREFOX}: the web page's Firefox test needs a real one. Install it with ` +
        '`apt-get update && apt-get install -y firefox-esr` (as .ci/run does), or set PEERKIT_FIREFOX=/path/to/firefox',
    )
  }
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true })
}

/** An element found by its accessible role and name (puppeteer's ARIA query). */
const byRole = (page: Page, role: string, name: string) =>
  page.locator(`::-p-aria([name=${JSON.stringify(name)}][role="${role}"])`).setTimeout(30_000)

test.serial(
  'the page in Firefox: log in, search, download to 100 % (sha256 checked), narrow window',
  async (t) => {
    const browser = await launch()
    t.teardown(() => browser.close())
    const dir = await tempDir(t, 'web-ui-firefox')
    const config = join(dir, 'config.json')
    await writeFile(config, JSON.stringify({ overlay: 'flooding', options: FAST_OPTIONS.flooding }))
    const shared = join(dir, 'shared')
    await mkdir(shared)
    const film = sampleBytes(FILM, FILM_SIZE)
    await writeFile(join(shared, FILM), film)
    const daemons: Daemon[] = []
    t.teardown(async () => {
      for (const d of daemons.reverse()) await d.stop()
    })
    const a = await startDaemon(nodeArgs('flooding', undefined, '--config', config, '--share', shared))
    daemons.push(a)
    const b = await startDaemon(
      nodeArgs('flooding', undefined, '--config', config, '--bootstrap', ...(a.lines.get('listen') ?? [])),
    )
    daemons.push(b)
    const webUrl = b.lines.get('web')?.[0] ?? ''
    const api = b.lines.get('api')?.[0] ?? ''
    t.true(webUrl.startsWith(`${api}/login?token=`), webUrl)

    const page = await browser.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(String(e)))
    await page.setViewport({ width: 1100, height: 760 })
    // Without the login link Firefox too gets nothing but 401.
    const denied = await page.goto(`${api}/`)
    t.is(denied?.status(), 401)
    await page.goto(webUrl)
    await byRole(page, 'searchbox', 'Search').fill('sintel')
    const out = join(dir, 'downloads')
    await mkdir(out)
    await byRole(page, 'textbox', 'Download to folder').fill(out)
    // Search until A's film is listed (the overlay may still be settling).
    let listed = false
    for (let attempt = 0; attempt < 10 && !listed; attempt++) {
      await byRole(page, 'button', 'Search').click()
      await page.waitForFunction(
        `[...document.querySelectorAll('[role=status]')].some((e) => /^\\s*\\d+ found/.test(e.textContent))`,
        { timeout: 15_000 },
      )
      listed = (await page.evaluate(
        `${RESULTS}?.textContent.includes(${JSON.stringify(FILM)}) ?? false`,
      )) as boolean
    }
    t.true(listed, 'the film is among the results')
    // The results are a table named Results in the accessibility tree, with column headers.
    t.truthy(await page.$('::-p-aria([name="Results"][role="table"])'), 'a table named Results')
    const headers = (await page.evaluate(
      `[...${RESULTS}.querySelectorAll('th')].map((h) => h.textContent.trim())`,
    )) as string[]
    t.deepEqual(headers.slice(0, 4), ['Name', 'Size', 'Providers', 'Hops'])

    await byRole(page, 'button', `Download ${FILM}`).click()
    await byRole(page, 'link', 'Downloads').click()
    await byRole(page, 'cell', 'done (verified)').wait()
    t.is(
      await byRole(page, 'progressbar', `${FILM} progress`)
        .map((e) => e.getAttribute('value'))
        .wait(),
      '100',
    )
    t.is(sha256(await readFile(join(out, FILM))), sha256(film))

    // A narrow window: nothing sticks out sideways in any view.
    await page.setViewport({ width: 380, height: 800 })
    for (const view of ['Search', 'Downloads', 'Shares', 'The node']) {
      await byRole(page, 'link', view).click()
      await byRole(page, 'heading', view).wait()
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth',
      )) as number
      t.true(overflow <= 0, `${view} is ${overflow} px wider than a 380 px window in Firefox`)
    }
    t.deepEqual(pageErrors, [])
  },
)
