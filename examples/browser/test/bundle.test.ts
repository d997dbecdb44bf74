import test from 'ava'
import { build } from 'esbuild'

// The page's bundle is the proof that core, the four overlays, the transfer and content's hashing
// run in a browser: esbuild with platform 'browser' and no Node polyfills fails on any import of
// a Node built-in (node:crypto, node:fs, net, …) anywhere in what the page pulls in.

const entry = new URL('../src/page.js', import.meta.url).pathname
const options = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  write: false,
  metafile: true,
  logLevel: 'silent',
} as const

test('the page bundles for the browser with no Node built-in, through each package’s browser build', async (t) => {
  const result = await build({ ...options, entryPoints: [entry] })
  const inputs = Object.keys(result.metafile.inputs)
  for (const pkg of [
    'core',
    'content',
    'transfer',
    'overlay-central',
    'overlay-flooding',
    'overlay-supernode',
    'overlay-chord',
  ]) {
    t.true(
      inputs.some((i) => i.includes(`packages/${pkg}/dist/src/`)),
      `${pkg} is in the bundle`,
    )
  }
  for (const browserBuild of [
    'core/dist/src/platform/crypto.browser.js',
    'core/dist/src/identity-file.browser.js',
    'content/dist/src/node-files.browser.js',
    'content/dist/src/sha256.browser.js',
    'transfer/dist/src/host-files.browser.js',
    'transport-tcp/dist/src/record-cipher.browser.js',
    'transport-tcp/dist/src/secure-crypto.browser.js',
    'transport-websocket/dist/src/platform.browser.js',
    'transport-webrtc/dist/src/rtc.browser.js',
  ]) {
    t.true(
      inputs.some((i) => i.endsWith(browserBuild)),
      `${browserBuild} is used`,
    )
  }
  for (const nodeOnly of [
    'core/dist/src/platform/crypto.js',
    'transfer/dist/src/host-files.js',
    'transport-tcp/dist/src/tcp-transport.js',
    'node_modules/ws/',
  ]) {
    t.false(
      inputs.some((i) => i.includes(nodeOnly)),
      `${nodeOnly} stays out`,
    )
  }
  const size = result.outputFiles.reduce((n, f) => n + f.contents.length, 0)
  t.log(`page bundle: ${(size / 1024).toFixed(0)} KiB unminified`)
})

test('the check can fail: a Node built-in, or the tcp transport, does not bundle for the browser', async (t) => {
  const fail = (contents: string) =>
    build({ ...options, stdin: { contents, resolveDir: new URL('..', import.meta.url).pathname } })
  await t.throwsAsync(fail("import 'node:fs'"), { message: /node:fs/ })
  await t.throwsAsync(fail("import '@peerkit/transport-tcp'"), { message: /node:/ })
})
