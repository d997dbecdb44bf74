// Bundles the page (dist/src/page.js, compiled by tsc so decorator metadata is kept) and its
// hashing worker for the browser, with no Node polyfills, into dist/web/, beside index.html.
// Writes dist/web/meta.json (esbuild's metafile: what went in, and the bundle's size).
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { build } from 'esbuild'

const out = new URL('../dist/web/', import.meta.url)
await mkdir(out, { recursive: true })
const result = await build({
  entryPoints: {
    page: new URL('../dist/src/page.js', import.meta.url).pathname,
    'hash-worker': new URL('../dist/src/hash-worker.js', import.meta.url).pathname,
  },
  outdir: out.pathname,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome120'],
  minify: true,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
})
await writeFile(new URL('meta.json', out), JSON.stringify(result.metafile))
await copyFile(new URL('../web/index.html', import.meta.url), new URL('index.html', out))
