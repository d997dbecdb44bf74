import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ApiClient, runCli } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'
import { tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

/** A name that would clear the screen, then print a result line of its own, then reverse the rest. */
const EVIL = 'evil\x1b[2J\x1b[H\nfake 0000  1 B  harmless.txt  (9 providers)\u202etxt.exe'
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for them
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

test('a remote file name with escape sequences and newlines is shown escaped; --json keeps the true name', async (t) => {
  const dir = await tempDir(t, 'inject')
  const shared = join(dir, 'mallory')
  await mkdir(shared)
  await writeFile(join(shared, EVIL), 'payload')
  const net = await inProcessNet(t, 'central')
  const mallory = await net.node({ share: [shared] })
  t.is(mallory.peer.status().shares, 1, 'the hostile name is shared as it is')
  const bob = await net.node({})
  const client = new ApiClient(bob.apiUrl, { token: bob.token })
  let hash = ''
  for (let i = 0; i < 20 && !hash; i++) {
    for await (const hit of client.search('evil', { timeout: 1000, limit: 1 })) hash = hit.hash
  }
  const cli = async (args: string[]) => {
    const c = captureIo({ cwd: dir })
    const code = await runCli([...args, '--api', bob.apiUrl, '--token', bob.token], c.io)
    return { code, stdout: c.stdout(), stderr: c.stderr() }
  }

  const shown = await cli(['search', 'evil', '--timeout', '1000'])
  t.is(shown.code, 0, shown.stderr)
  t.false(RAW.test(shown.stdout), 'no raw control character reaches the terminal')
  t.false(RAW.test(shown.stderr))
  const lines = shown.stdout.split('\n').filter(Boolean)
  t.is(lines.length, 1, 'one hit, one line: no fake line')
  t.false(lines.some((l) => l.startsWith('fake')))
  t.is(
    lines[0],
    `${hash}       7 B  evil\\x1b[2J\\x1b[H\\nfake 0000  1 B  harmless.txt  (9 providers)\\u202etxt.exe  (1 provider)`,
  )

  const json = await cli(['search', 'evil', '--timeout', '1000', '--json'])
  t.is(json.code, 0)
  t.false(RAW.test(json.stdout), 'JSON escapes them too')
  t.is(JSON.parse(json.stdout).hits[0].name, EVIL, 'the true name, JSON-escaped')

  // Saved in a folder, the name loses what a file name should not hold.
  await mkdir(join(dir, 'dl'))
  const got = await cli(['get', hash, '--out', 'dl'])
  t.is(got.code, 0, got.stderr)
  t.false(RAW.test(got.stdout))
  t.deepEqual(await readdir(join(dir, 'dl')), ['evil[2J[Hfake 0000  1 B  harmless.txt  (9 providers)txt.exe'])
  const status = await cli(['status'])
  t.is(status.code, 0)
  t.false(RAW.test(status.stdout))
})
