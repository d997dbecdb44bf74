import { spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { misbehave } from './helpers/liars.js'
import { refOf, startPeers, tempDir } from './helpers/peers.js'

const MiB = 1024 * 1024
const CHILD = fileURLToPath(new URL('./helpers/download-child.js', import.meta.url))

test('a downloader killed with SIGKILL and started again fetches only the chunks it lacked', async (t) => {
  const [provider, d] = await startPeers(t, 2, { wire: 'tcp', transfer: { endgame: false } })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([provider], dir, 8 * MiB)
  const served = await misbehave(t, provider, join(dir, 'copy-0-42.bin'), { delay: 40 })
  const to = join(dir, 'out', 'movie.bin')
  const child = spawn(
    process.execPath,
    [CHILD, record.hash, to, JSON.stringify(refOf(provider)), join(dir, 'child')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  t.teardown(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  let stderr = ''
  let last = 'nothing'
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  const killedAt = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`the child did not reach 2 MiB in 40 s (last: ${last}; stderr: ${stderr.slice(-2000)})`),
        ),
      40_000,
    )
    void exited.then((code) => reject(new Error(`the child exited (${code}) early: ${stderr.slice(-2000)}`)))
    let buffered = ''
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        last = line
        const p = JSON.parse(line) as { bytes?: number; size?: number; done?: boolean }
        if (p.done) reject(new Error('the child finished before it could be killed'))
        if ((p.bytes ?? 0) >= 2 * MiB) {
          clearTimeout(timer)
          child.kill('SIGKILL')
          resolve(p.bytes ?? 0)
        }
      }
    })
  })
  await exited
  t.true((await stat(`${to}.part`)).isFile())
  const before = served.chunkRequests()

  const result = await d.download(record.hash, { to, providers: [refOf(provider)] }).done
  const total = Math.ceil(bytes.length / record.chunkSize)
  t.is(await fileSha(to), sha(bytes))
  t.true(
    result.resumedChunks >= 1 && result.resumedChunks * record.chunkSize <= bytes.length,
    `resumed ${result.resumedChunks}`,
  )
  t.true(
    result.resumedChunks * record.chunkSize >= killedAt / 2,
    `killed at ${killedAt} B, resumed ${result.resumedChunks}`,
  )
  t.is(result.resumedChunks + result.fetchedChunks, total)
  t.is(
    served.chunkRequests() - before,
    result.fetchedChunks,
    'the provider served exactly the missing chunks',
  )
})
