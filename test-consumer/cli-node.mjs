// (d) The installed `peerkit` command selects the third-party overlay too: `peerkit node` with a
// --config file that names it in `plugins`, and with `--plugin` on the command line (each node must
// print `overlay one-hop` and `ready`, then stop cleanly on SIGTERM), and `peerkit sim --plugin`
// simulates it (its searches find files, with its own messages). Exits non-zero on any failure.
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { bound } from './check.mjs'

bound(60_000, 'cli-node.mjs')
const bin = join(import.meta.dirname, 'node_modules', '.bin', 'peerkit')

/** Runs `peerkit ARGS` in `cwd` until it prints `ready` (at most 20 s), checks its overlay line, stops it with SIGTERM. */
async function node(title, args, cwd) {
  const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => {
    err += d
  })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 20_000)
    child.stdout.on('data', (d) => {
      out += d
      if (/^ready$/m.test(out)) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    exited.then(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  child.kill('SIGTERM')
  const { code, signal } = await exited
  if (!ready || !/^overlay one-hop /m.test(out) || code !== 0) {
    throw new Error(`${title}: ready ${ready}, exit ${code ?? signal}\nstdout:\n${out}\nstderr:\n${err}`)
  }
  console.log(`${title}: ${out.split('\n').find((l) => l.startsWith('overlay'))}, stopped cleanly`)
}

const dir = await mkdtemp(join(tmpdir(), 'peerkit-consumer-cli-'))
try {
  // The config file sits beside the plugin and names it relatively; the node runs elsewhere.
  const config = join(import.meta.dirname, 'node.json')
  await writeFile(
    config,
    JSON.stringify({
      overlay: 'one-hop',
      listen: ['tcp://127.0.0.1:0'],
      plugins: ['./third-party-overlay.mjs'],
    }),
  )
  await node(
    'peerkit node --config',
    ['node', '--config', config, '--api', '127.0.0.1:0', '--data', join(dir, 'a')],
    dir,
  )
  await node(
    'peerkit --plugin',
    [
      '--plugin',
      './third-party-overlay.mjs',
      'node',
      '--overlay',
      'one-hop',
      '--listen',
      'tcp://127.0.0.1:0',
      '--api',
      '127.0.0.1:0',
      '--data',
      join(dir, 'b'),
    ],
    import.meta.dirname,
  )
  const { stdout } = await promisify(execFile)(
    bin,
    [
      '--plugin',
      './third-party-overlay.mjs',
      'sim',
      '--overlay',
      'one-hop',
      '--nodes',
      '20',
      '--queries',
      '20',
      '--json',
    ],
    { cwd: import.meta.dirname, timeout: 60_000 },
  )
  const [result] = JSON.parse(stdout).results
  if (result?.overlay !== 'one-hop' || !(result.queries.succeeded > 0) || !(result.messages.byKind.ask > 0)) {
    throw new Error(
      `peerkit sim --plugin: ${JSON.stringify({ overlay: result?.overlay, queries: result?.queries, messages: result?.messages })}`,
    )
  }
  console.log(
    `peerkit sim --plugin: one-hop found ${result.queries.succeeded}/${result.queries.issued}, ${result.messages.byKind.ask} asks`,
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
