import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test, { type ExecutionContext } from 'ava'
import { type RunResult, runBin } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'

/** Loaded with `--import`, it lists every module a `peerkit` process imports. */
const TRACE = fileURLToPath(new URL('./helpers/trace-imports.js', import.meta.url))

/** Where a module's package lives: its entry URL, two folders up (`…/dist/src/index.js`). */
const packageOf = (specifier: string) => new URL('../../', import.meta.resolve(specifier)).href
const SIM = packageOf('@peerkit/sim')
const CHORD = packageOf('@peerkit/overlay-chord')
const WEBRTC = packageOf('@peerkit/transport-webrtc')
const own = (path: string) => new URL(`../src/${path}`, import.meta.url).href
const DEMO = own('demo/run-demo.js')
const NODE_RUNNER = own('node-runner.js')
const API_CLIENT = own('api-client.js')
const PROGRAM = own('program.js')

/** Runs `peerkit ARGS…` and returns what it printed and the URLs of every module it imported. */
async function traced(t: ExecutionContext, args: string[]): Promise<RunResult & { loaded: string[] }> {
  const file = join(await tempDir(t, 'trace'), 'imports.txt')
  const result = await runBin(args, {
    nodeArgs: ['--import', TRACE],
    env: { PEERKIT_TRACE_IMPORTS: file },
    timeout: 60_000,
  })
  const loaded = (await readFile(file, 'utf8')).split('\n').filter(Boolean)
  // The trace saw the process load the command line, so an absent module is absent, not unseen.
  t.true(loaded.includes(PROGRAM), `the trace lists ${PROGRAM}: ${loaded.length} modules`)
  return { ...result, loaded }
}

const has = (loaded: string[], prefix: string) => loaded.some((url) => url.startsWith(prefix))

test('a client command loads neither the simulator, the overlays, the demo nor the node', async (t) => {
  // Port 9 (discard) on loopback: nothing listens, so the command runs and fails to reach a node.
  const r = await traced(t, ['status', '--api', '127.0.0.1:9', '--token', 'x'])
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /cannot reach the node's API at 127\.0\.0\.1:9/)
  t.true(r.loaded.includes(API_CLIENT), 'the command ran: its API client was loaded')
  t.false(has(r.loaded, SIM), 'no module of @peerkit/sim')
  t.false(has(r.loaded, CHORD), 'no overlay')
  t.false(has(r.loaded, WEBRTC), 'no transport')
  t.false(r.loaded.includes(DEMO), 'not the demo')
  t.false(r.loaded.includes(NODE_RUNNER), 'not the node')
})

test('`peerkit --help` loads no command implementation; `peerkit node --help` loads the registered names only', async (t) => {
  const top = await traced(t, ['--help'])
  t.is(top.code, 0, top.stderr)
  t.regex(top.stdout, /^ {2}sim \[flags\.\.\.\] +simulate a network/m)
  for (const prefix of [SIM, CHORD, DEMO, NODE_RUNNER, API_CLIENT]) t.false(has(top.loaded, prefix), prefix)

  const node = await traced(t, ['node', '--help'])
  t.is(node.code, 0, node.stderr)
  t.regex(node.stdout, /overlay strategy: 'central', 'chord', 'flooding',\s+'supernode'/)
  t.true(has(node.loaded, CHORD), 'the overlays are registered, for the names the help lists')
  for (const prefix of [SIM, DEMO, NODE_RUNNER]) t.false(has(node.loaded, prefix), prefix)
})

test('`peerkit help sim` loads the simulator: its usage is the description', async (t) => {
  const r = await traced(t, ['help', 'sim'])
  t.is(r.code, 0, r.stderr)
  t.true(has(r.loaded, SIM), 'the trace sees @peerkit/sim when a command loads it')
  t.regex(r.stdout, /Usage: peerkit sim --overlay central\|flooding\|supernode\|chord\|all --nodes N/)
})
