import { spawn } from 'node:child_process'
import { watch } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Identity } from '@peerkit/core'
import test from 'ava'
import { BIN, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'

/** Rounds of kill-at-first-start; PEERKIT_CRASH_ROUNDS=40 for the long variant. */
const ROUNDS = Number(process.env.PEERKIT_CRASH_ROUNDS ?? 5)

const flooding = (data: string) => nodeArgs('flooding', data)

/**
 * Starts `peerkit node --data DATA` and SIGKILLs it: on even rounds as soon as
 * anything appears in the data folder (the moment the identity is being
 * written), on odd rounds after a short window that moves with the round.
 * Resolves once the process is gone.
 */
async function killAtFirstStart(data: string, round: number): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...flooding(data)], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = () => child.kill('SIGKILL')
  const watcher = watch(data, kill)
  // Bounded: a round whose event never comes is killed after a window of 50 to 1,150 ms.
  const timer = setTimeout(kill, round % 2 === 0 ? 5000 : 50 + ((round * 137) % 1100))
  await exited
  clearTimeout(timer)
  watcher.close()
}

test('a node killed at first start, again and again, always starts normally afterwards', async (t) => {
  const dir = await tempDir(t, 'crash')
  let keysLeft = 0
  for (let round = 0; round < ROUNDS; round++) {
    const data = join(dir, `data-${round}`)
    await mkdir(data)
    await killAtFirstStart(data, round)
    await killAtFirstStart(data, round + 1)
    const names = await readdir(data)
    if (names.includes('identity.key')) {
      keysLeft++
      // Never a partial key: whatever was left is a whole one.
      t.regex(
        await readFile(join(data, 'identity.key'), 'utf8'),
        /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/,
      )
    }
    const node = await startDaemon(flooding(data))
    const id = node.lines.get('peer')?.[0] ?? ''
    t.is(await node.stop(), 0)
    t.regex(id, /^[A-Za-z0-9_-]{43}$/)
    t.is(Identity.fromPem(await readFile(join(data, 'identity.key'), 'utf8')).peerId, id)
    const left = (await readdir(data)).filter((n) => n.endsWith('.tmp'))
    t.deepEqual(left, [], `round ${round}: the temporary files of killed starts are cleaned up`)
  }
  t.log(`${ROUNDS} rounds; a whole identity.key was there after the kills in ${keysLeft}`)
})

test('a damaged identity.key stops the node with exit 1, naming the file and what to do', async (t) => {
  const dir = await tempDir(t, 'damaged')
  await writeFile(join(dir, 'identity.key'), '')
  const empty = await runBin(flooding(dir))
  t.is(empty.code, 1)
  t.is(
    empty.stderr,
    `peerkit: identity.key in ${dir} is damaged (empty): move it away to create a new identity, or restore it from a backup\n`,
  )
  await writeFile(join(dir, 'identity.key'), '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI')
  const cut = await runBin(flooding(dir))
  t.is(cut.code, 1)
  t.regex(
    cut.stderr,
    /^peerkit: identity\.key in .* is damaged \(not an Ed25519 private key: .*\): move it away to create a new identity, or restore it from a backup\n$/,
  )
  t.is(
    await readFile(join(dir, 'identity.key'), 'utf8'),
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI',
    'left as it was',
  )
})
