// Writes the consumer project's package.json into the folder given first: every tarball given after
// it (file: dependencies, as a user installs downloaded packages), the peer dependencies an
// application provides once (tsyringe, reflect-metadata), what the plugin fixture imports (zod,
// eventemitter3), and for the checks ava, typescript and @types/node. Versions come from this
// repository's own package.json files, so they move with it.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const read = (path) => JSON.parse(readFileSync(join(root, path), 'utf8'))
const core = read('packages/core/package.json')
const rootPkg = read('package.json')
const [folder, ...tarballs] = process.argv.slice(2)
const dependencies = {}
for (const tarball of tarballs) {
  const { name } = JSON.parse(
    execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  )
  dependencies[name] = `file:${resolve(tarball)}`
}
Object.assign(dependencies, {
  'reflect-metadata': core.peerDependencies['reflect-metadata'],
  tsyringe: core.peerDependencies.tsyringe,
  zod: core.dependencies.zod,
  eventemitter3: core.dependencies.eventemitter3,
})
const devDependencies = {
  ava: rootPkg.devDependencies.ava,
  typescript: rootPkg.devDependencies.typescript,
  '@types/node': rootPkg.devDependencies['@types/node'],
}
writeFileSync(
  join(folder, 'package.json'),
  `${JSON.stringify({ name: 'peerkit-consumer', private: true, type: 'module', dependencies, devDependencies }, null, 2)}\n`,
)
