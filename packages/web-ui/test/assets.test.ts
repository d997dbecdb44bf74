import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { WEB_UI_ASSETS, WEB_UI_FILES } from '../src/index.js'

test('the built page is its files in WEB_UI_ASSETS, loading only its own script and style', async (t) => {
  const files = new Map<string, string>()
  for (const name of WEB_UI_FILES) files.set(name, await readFile(join(WEB_UI_ASSETS, name), 'utf8'))
  const page = files.get('index.html') ?? ''
  t.regex(page, /<script type="module" src="\/assets\/app\.js"><\/script>/)
  t.regex(page, /<link rel="stylesheet" href="\/assets\/app\.css" \/>/)
  // No inline script (the node's Content-Security-Policy allows scripts from itself only) and nothing from elsewhere.
  t.notRegex(page, /<script(?![^>]*\bsrc=)/)
  for (const [name, text] of files) {
    // XML namespace names (http://www.w3.org/2000/svg) are names, not addresses.
    const code = text.replaceAll(/http:\/\/www\.w3\.org\/[0-9]{4}\/[A-Za-z/]+/g, '')
    t.notRegex(code, /\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, `${name} loads nothing remote`)
  }
  t.true((files.get('app.js') ?? '').length > 1000, 'the bundle holds the app and Preact')
})
