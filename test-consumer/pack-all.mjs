// Packs every public workspace package (packages/*, adapters/*; private ones such as the examples are
// skipped) into the folder given as the first argument, and prints one tarball path per line.
// Used by `npm run pack:all` and by .ci/consumer. Build first: it packs what dist/ holds.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const destination = resolve(process.argv[2] ?? join(root, 'dist', 'packs'))
const folders = ['packages', 'adapters'].flatMap((parent) =>
  readdirSync(join(root, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, parent, d.name, 'package.json')))
    .map((d) => `${parent}/${d.name}`),
)
const publicOnes = folders.filter(
  (dir) => !JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private,
)
for (const dir of publicOnes) {
  if (!existsSync(join(root, dir, 'dist', 'src')))
    throw new Error(`${dir} is not built (no dist/src): build before packing`)
}
mkdirSync(destination, { recursive: true })
const out = execFileSync(
  'npm',
  ['pack', '--json', '--pack-destination', destination, ...publicOnes.map((dir) => `--workspace=${dir}`)],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
)
for (const pack of JSON.parse(out)) console.log(join(destination, pack.filename))
