// Bundles web/app.ts (Preact + htm) into dist/assets/app.js and copies the page and its style beside it.
import { copyFile, mkdir } from 'node:fs/promises'
import { build } from 'esbuild'

const out = new URL('../dist/assets/', import.meta.url)
await mkdir(out, { recursive: true })
await build({
  entryPoints: [new URL('../web/app.ts', import.meta.url).pathname],
  outfile: new URL('app.js', out).pathname,
  bundle: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
})
for (const name of ['index.html', 'app.css'])
  await copyFile(new URL(`../web/${name}`, import.meta.url), new URL(name, out))
