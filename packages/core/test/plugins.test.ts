import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import test from 'ava'
import {
  createPeer,
  indexes,
  loadConfigFile,
  loadPlugins,
  overlays,
  parsePeerConfig,
  transfers,
  transports,
} from '../src/index.js'
import { arrayIndex, SoloOverlay, stubTransfer, stubTransport } from './helpers/stub-components.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const fixture = (name: string) => join(here, 'fixtures', name)

transports.register('stub', () => stubTransport())
indexes.register('array', () => arrayIndex())
transfers.register('stub', () => stubTransfer())
const base = { transport: 'stub', index: 'array', transfer: 'stub' }

test('a plugin named by a relative path is loaded from the given folder and registers its overlay', async (t) => {
  await loadPlugins(['./fixtures/plugin-overlay.js'], { from: here })
  t.true(overlays.has('plugged'))
})

test('createPeer loads config.plugins before it looks the overlay up', async (t) => {
  const peer = await createPeer({
    ...base,
    overlay: 'late',
    plugins: [fixture('late-overlay.js')],
    listen: ['stub://plug-1'],
  })
  t.teardown(() => peer.stop())
  await peer.start()
  t.true(peer.overlay instanceof SoloOverlay)
  t.is(peer.config.overlay, 'late')
})

test('a file: URL and a module loaded twice are fine', async (t) => {
  const url = pathToFileURL(fixture('url-overlay.js')).href
  await loadPlugins([url, url])
  t.true(overlays.has('by-url'))
})

test('a missing plugin is an InvalidOptionsError naming it, its place in the list and why', async (t) => {
  const err = await t.throwsAsync(
    loadPlugins(['./fixtures/plugin-overlay.js', './fixtures/no-such-plugin.js'], { from: here }),
    {
      name: 'InvalidOptionsError',
    },
  )
  t.regex(err.message, /^config\.plugins\[1\]: plugin '\.\/fixtures\/no-such-plugin\.js' failed to load/)
  t.regex(err.message, /not found/)
  t.truthy(err.cause)
})

test('a missing package is an InvalidOptionsError naming the package, through createPeer too', async (t) => {
  const err = await t.throwsAsync(
    createPeer({ ...base, overlay: 'plugged', plugins: ['@acme/overlay-nowhere'] }),
    { name: 'InvalidOptionsError' },
  )
  t.regex(err.message, /config\.plugins\[0\]: plugin '@acme\/overlay-nowhere' failed to load .*not found/)
})

test('a plugin that throws while loading is an InvalidOptionsError with its error as the reason and cause', async (t) => {
  const err = await t.throwsAsync(loadPlugins([fixture('broken-plugin.js')], { field: '--plugin' }), {
    name: 'InvalidOptionsError',
  })
  t.regex(err.message, /^--plugin\[0\]: .*Error: the broken plugin has no licence key/)
  t.is((err.cause as Error).message, 'the broken plugin has no licence key')
})

test('config.plugins must be a list of non-empty strings', (t) => {
  t.deepEqual(parsePeerConfig({ overlay: 'x' }).plugins, [])
  t.throws(() => parsePeerConfig({ overlay: 'x', plugins: './one.js' }), {
    name: 'InvalidOptionsError',
    message: /^config\.plugins must be an array \(got "\.\/one\.js"\)/,
  })
  t.throws(() => parsePeerConfig({ overlay: 'x', plugins: [''] }), {
    name: 'InvalidOptionsError',
    message: /^config\.plugins\.0 must be a module name or path/,
  })
})

test('an unknown overlay lists what is registered, plugins included', async (t) => {
  const err = await t.throwsAsync(
    createPeer({ ...base, overlay: 'plugge', plugins: [fixture('plugin-overlay.js')] }),
    { name: 'InvalidOptionsError' },
  )
  t.regex(err.message, /overlay must be one of .*'plugged'.* \(got 'plugge'\)/)
  t.regex(err.message, /config\.plugins/)
})

test('loadConfigFile resolves relative plugin paths against the file folder, and leaves package names alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-plugins-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'peer.json')
  await writeFile(
    file,
    JSON.stringify({ overlay: 'x', plugins: ['./a.js', '../b.js', '@acme/c', '/abs/d.js'] }),
  )
  const input = await loadConfigFile(file)
  t.deepEqual(input.plugins, [join(dir, 'a.js'), join(dir, '..', 'b.js'), '@acme/c', '/abs/d.js'])
})

test('a package name is found in node_modules from the given folder upward, by its import exports and subpaths', async (t) => {
  const app = await mkdtemp(join(tmpdir(), 'peerkit-plugin-app-'))
  t.teardown(() => rm(app, { recursive: true, force: true }))
  // An ESM-only package (exports with "import" and no "require"/"default"), as libp2p publishes them.
  const pkg = join(app, 'node_modules', '@acme', 'overlay-esm')
  await mkdir(pkg, { recursive: true })
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: '@acme/overlay-esm',
      type: 'module',
      exports: {
        '.': { types: './index.d.ts', import: './index.js' },
        './extra': { import: './extra.js' },
      },
    }),
  )
  const register = pathToFileURL(fixture('register-solo.js')).href
  await writeFile(
    join(pkg, 'index.js'),
    `import { registerSolo } from '${register}'\nregisterSolo('esm-only')\n`,
  )
  await writeFile(
    join(pkg, 'extra.js'),
    `import { registerSolo } from '${register}'\nregisterSolo('esm-extra')\n`,
  )
  const deep = join(app, 'config', 'peers')
  await mkdir(deep, { recursive: true })
  await loadPlugins(['@acme/overlay-esm', '@acme/overlay-esm/extra'], { from: deep })
  t.true(overlays.has('esm-only'))
  t.true(overlays.has('esm-extra'))
  const err = await t.throwsAsync(loadPlugins(['@acme/overlay-esm/missing'], { from: deep }), {
    name: 'InvalidOptionsError',
  })
  t.regex(err.message, /plugin '@acme\/overlay-esm\/missing' failed to load/)
})
