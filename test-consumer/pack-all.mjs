// Packs every public workspace package (packages/*, adapters/*; private ones such as the examples are
// skipped) into the folder given as the first argument, and prints one tarball path per line.
// Used by `npm run pack:all` and by .ci/consumer. Build first: it packs what dist/ holds. Fails when a
// tarball lacks its LICENSE, README or a file its exports/bin name, or holds tests or benches.
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
const packs = JSON.parse(out)
const manifests = new Map(
  publicOnes
    .map((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')))
    .map((m) => [m.name, m]),
)
const problems = packs.flatMap((pack) => checkPack(pack, manifests.get(pack.name) ?? {}))
if (problems.length > 0) {
  console.error(`packed packages are incomplete:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
for (const pack of packs) console.log(join(destination, pack.filename))

/** What a published package must hold: its licence, README and every file its exports and bin name; no tests or benches. */
function checkPack(pack, manifest) {
  const files = new Set(pack.files.map((f) => f.path))
  const wanted = [
    'package.json',
    'LICENSE',
    'README.md',
    ...targets(manifest.exports),
    ...targets(manifest.bin),
  ]
  const problems = wanted
    .filter((f) => !files.has(f.replace(/^\.\//, '')))
    .map((f) => `${pack.name}: ${f} is missing`)
  for (const f of files)
    if (/^dist\/(test|bench)\//.test(f)) problems.push(`${pack.name}: ${f} should not be published`)
  if (manifest.private) problems.push(`${pack.name} is private`)
  return problems
}

/** The file paths in an exports or bin field (strings, nested condition objects). */
function targets(field) {
  if (typeof field === 'string') return [field]
  if (field === null || typeof field !== 'object') return []
  return Object.values(field).flatMap(targets)
}
