import { readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { runCli } from '../src/index.js'
import { runBin, startDaemon } from './helpers/bin.js'
import { captureIo } from './helpers/capture-io.js'

const usage: Array<[string, string[], RegExp]> = [
  ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['an unknown flag', ['status', '--frob'], /unknown option '--frob'/],
  [
    'an unknown overlay',
    ['demo', '--overlay', 'napster'],
    /--overlay .*must be one of .*'central'.*\(got 'napster'\)/,
  ],
  ['a bad peer count', ['demo', '--peers', '0'], /--peers .*must be an integer from 2 to 12 \(got '0'\)/],
  ['a bad transport', ['demo', '--transport', 'udp'], /--transport .*Allowed choices are memory, tcp/],
  [
    'a bad API address',
    ['status', '--api', 'localhost'],
    /expected HOST:PORT such as 127\.0\.0\.1:4680 \(got 'localhost'\)/,
  ],
  ['a bad port', ['status', '--api', '127.0.0.1:70000'], /expected HOST:PORT/],
  ['a missing query', ['search'], /missing required argument 'query'/],
  ['a bad search timeout', ['search', 'x', '--timeout', 'soon'], /--timeout .*must be an integer/],
  ['a malformed hash', ['get', 'abc', '--out', 'x'], /a content hash is 64 hexadecimal digits/],
  ['a missing --out', ['get', 'a'.repeat(64)], /required option '--out <path>' not specified/],
  ['a bad listen address', ['node', '--overlay', 'central', '--listen', '4001'], /expected an address URL/],
  ['a bad log level', ['node', '--overlay', 'central', '--log-level', 'loud'], /must be one of 'debug'/],
  ['no command at all', [], /Usage: peerkit/],
]

for (const [what, args, message] of usage) {
  test(`${what} exits 2 and says what is wrong`, async (t) => {
    const c = captureIo()
    t.is(await runCli(args, c.io), 2)
    t.regex(c.stderr(), message)
    t.is(c.stdout(), '')
  })
}

test('node without an overlay (flag or config) exits 2 naming --overlay', async (t) => {
  const c = captureIo()
  t.is(await runCli(['node', '--api', '127.0.0.1:0'], c.io), 2)
  t.regex(c.stderr(), /--overlay is required .*'central'/)
})

test('directory without --listen exits 2 with an example', async (t) => {
  const c = captureIo()
  t.is(await runCli(['directory'], c.io), 2)
  t.regex(c.stderr(), /--listen is required: e\.g\. --listen tcp:\/\/0\.0\.0\.0:4001/)
})

test('a node config file that is not JSON exits 2 naming the file', async (t) => {
  const c = captureIo()
  t.is(await runCli(['node', '--config', '/nonexistent/peerkit.json'], c.io), 2)
  t.regex(c.stderr(), /cannot read config file \/nonexistent\/peerkit\.json/)
})

test('an unreachable node exits 1 with a message that says how to fix it', async (t) => {
  const c = captureIo()
  t.is(await runCli(['status', '--api', '127.0.0.1:9'], c.io), 1)
  t.regex(
    c.stderr(),
    /cannot reach the node's API at 127\.0\.0\.1:9 .* is `peerkit node --api 127\.0\.0\.1:9` running\?/,
  )
})

test("--api naming a peer's own port (not HTTP) is a clear error, exit 1", async (t) => {
  const { createServer: tcpServer } = await import('node:net')
  // What a peer's port does to an HTTP request: answers bytes that are not HTTP.
  const peerPort = tcpServer((socket) => socket.end(Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9])))
  await new Promise<void>((resolve) => peerPort.listen(0, '127.0.0.1', resolve))
  t.teardown(() => peerPort.close())
  const api = `127.0.0.1:${(peerPort.address() as AddressInfo).port}`
  const c = captureIo()
  t.is(await runCli(['status', '--api', api, '--token', 'x'], c.io), 1)
  t.regex(c.stderr(), /answered, but not as a peerkit node's HTTP API .*is it the peer's own port\?/)
  t.notRegex(c.stderr(), /^peerkit: HPE_/)
})

test('peerkit node --api at its own listen port says so, exit 1', async (t) => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((r) => probe.close(r))
  const c = captureIo()
  const args = [
    'node',
    '--overlay',
    'flooding',
    '--listen',
    `tcp://127.0.0.1:${port}`,
    '--api',
    `127.0.0.1:${port}`,
  ]
  t.is(await runCli([...args, '--log-level', 'silent'], c.io), 1)
  t.regex(c.stderr(), /--api 127\.0\.0\.1:\d+ is this peer's own listen address/)
})

test('--help lists every command and exits 0', async (t) => {
  const c = captureIo()
  t.is(await runCli(['--help'], c.io), 0)
  for (const cmd of ['demo', 'node', 'directory', 'search', 'get', 'status'])
    t.regex(c.stdout(), new RegExp(`\\n  ${cmd} `))
})

const flags: Record<string, string[]> = {
  demo: ['--overlay', '--peers', '--transport', '--timeout'],
  share: [],
  node: [
    '--share-hidden',
    '--no-share-downloads',
    '--no-watch',
    '--overlay',
    '--listen',
    '--bootstrap',
    '--share',
    '--data',
    '--api',
    '--config',
    '--transport',
    '--log-level',
  ],
  directory: ['--listen', '--data', '--transport', '--index', '--database', '--config', '--log-level'],
  search: ['--api', '--json', '--timeout', '--limit', '--token', '--cookie', '--data'],
  get: ['--api', '--out', '--json', '--provider-timeout', '--token', '--cookie', '--data', '--force'],
  status: ['--api', '--json', '--token', '--cookie', '--data', '--web'],
}

for (const [cmd, expected] of Object.entries(flags)) {
  test(`peerkit ${cmd} --help describes every flag`, async (t) => {
    const c = captureIo()
    t.is(await runCli([cmd, '--help'], c.io), 0)
    for (const flag of expected)
      t.regex(c.stdout(), new RegExp(`${flag}\\b[^\\n]* {2,}\\S`), `${cmd} ${flag}`)
  })
}

test('the compiled bin exits 2 on bad usage and 0 on --help', async (t) => {
  const bad = await runBin(['demo', '--peers', 'many'])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--peers/)
  const help = await runBin(['--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /Usage: peerkit/)
  const version = await runBin(['--version'])
  t.is(version.code, 0)
  // The package's own version, not a placeholder.
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  t.is(version.stdout.trim(), pkg.version)
  t.not(pkg.version, '0.0.0')
})

test('the bin npm links is a file of the source tree (linked on the first install of a fresh clone), with a shebang, and runs the command', async (t) => {
  const root = new URL('../../', import.meta.url)
  const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as {
    bin: { peerkit: string }
    files: string[]
  }
  t.false(pkg.bin.peerkit.includes('dist/'), 'dist/ does not exist yet when npm links bins')
  const bin = new URL(pkg.bin.peerkit, root)
  t.true((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n'))
  t.true(((await stat(bin)).mode & 0o111) !== 0, 'executable')
  t.true(pkg.files.includes(pkg.bin.peerkit.replace(/^\.\//, '').split('/')[0] as string), 'published')
  const run = await runBin(['--version'], { bin: fileURLToPath(bin) })
  t.is(run.code, 0, run.stderr)
  t.is(
    run.stdout.trim(),
    (JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string }).version,
  )
})

test('a folder that cannot be shared exits 1 and names --share', async (t) => {
  const c = captureIo()
  const args = ['node', '--overlay', 'flooding', '--share', '/nonexistent/peerkit', '--api', '127.0.0.1:0']
  t.is(await runCli([...args, '--log-level', 'silent'], c.io), 1)
  t.regex(c.stderr(), /cannot share \/nonexistent\/peerkit: .* check that --share .*names a readable folder/)
})

test('an API port in use exits 1 and says to pick another', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo
  const c = captureIo()
  t.is(
    await runCli(
      ['node', '--overlay', 'flooding', '--api', `127.0.0.1:${port}`, '--log-level', 'silent'],
      c.io,
    ),
    1,
  )
  t.regex(
    c.stderr(),
    new RegExp(`the API address 127\\.0\\.0\\.1:${port} is in use — pick another with --api`),
  )
})

test('a node prints its addresses, runs until asked to stop, and exits 0', async (t) => {
  const c = captureIo()
  const running = runCli(
    [
      'node',
      '--overlay',
      'flooding',
      '--listen',
      'tcp://127.0.0.1:0',
      '--api',
      '127.0.0.1:0',
      '--log-level',
      'info',
    ],
    c.io,
  )
  const deadline = Date.now() + 10_000
  while (!c.stdout().includes('ready\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.regex(
    c.stdout(),
    /^peer [A-Za-z0-9_-]{43}\noverlay flooding role \S+\nlisten tcp:\/\/127\.0\.0\.1:\d+\napi http:\/\/127\.0\.0\.1:\d+\ncookie \/\S+\/\.peerkit\/api-127\.0\.0\.1-\d+\.cookie\nweb http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}\nready\n$/,
  )
  c.stop('SIGTERM')
  t.is(await running, 0)
  t.regex(c.stderr(), /info {2}peerkit:cli peer started id=/)
  t.regex(c.stderr(), /info {2}peerkit:cli stopping signal=SIGTERM/)
  t.regex(c.stderr(), /info {2}peerkit:cli stopped\n$/)
})

test('peerkit node runs on webrtc: --listen webrtc://* beside tcp, the transports taken from the schemes (or --transport)', async (t) => {
  t.timeout(60_000)
  const node = await startDaemon([
    'node',
    '--overlay',
    'flooding',
    '--listen',
    'webrtc://*',
    'tcp://127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ])
  t.teardown(() => node.stop())
  const id = node.lines.get('peer')?.[0]
  t.deepEqual(node.lines.get('listen')?.[0], `webrtc://${id}`)
  t.regex(node.lines.get('listen')?.[1] ?? '', /^tcp:\/\/127\.0\.0\.1:\d+$/)
  t.is(await node.stop(), 0)
})
