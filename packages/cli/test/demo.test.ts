import { access } from 'node:fs/promises'
import test from 'ava'
import { runDemo } from '../src/demo/run-demo.js'
import { runBin } from './helpers/bin.js'
import { captureIo } from './helpers/capture-io.js'
import { OVERLAYS } from './helpers/overlay-options.js'

const gone = (path: string) =>
  access(path).then(
    () => false,
    () => true,
  )

for (const overlay of OVERLAYS) {
  test(`peerkit demo --overlay ${overlay} --transport memory tells the story and exits 0`, async (t) => {
    const r = await runBin(['demo', '--overlay', overlay, '--transport', 'memory', '--timeout', '45000'], {
      timeout: 60_000,
    })
    t.is(r.code, 0, r.stderr)
    const out = r.stdout
    t.regex(out, new RegExp(`the ${overlay} overlay over memory, 4 peers`))
    t.regex(out, /Alice joins with a fresh identity/)
    t.regex(out, /hashed and published The\.Hobbit\.1937\.First\.Edition\.epub/)
    t.regex(out, /found Harry\.Potter\.and\.the\.Chamber\.of\.Secrets\.mkv \(3\.2 MB\) at (bob|carol|dave)/)
    t.regex(out, /matches the hash she searched for/)
    t.regex(out, /overlay messages sent {2}[1-9]\d*/)
    t.regex(out, /download {15}3\.2 MB in .* from /)
    const root = /sample files in (\S+)\)/.exec(out)?.[1] ?? ''
    t.true(root.length > 0)
    t.true(await gone(root), 'the sample folder is removed')
  })
}

test('the demo measures what it narrates: verified bytes from every holder, messages, hops', async (t) => {
  const c = captureIo()
  const s = await runDemo({ overlay: 'central', peers: 5, transport: 'memory' }, c.io)
  t.true(s.verified)
  t.is(s.download.size, 3 * 1024 * 1024 + 12_345)
  t.is(
    Object.values(s.sources).reduce((a, b) => a + b, 0),
    s.download.size,
  )
  for (const name of Object.keys(s.sources)) t.true(['bob', 'carol', 'dave'].includes(name), name)
  t.deepEqual(
    s.bobDownload.sources.map((x) => x.bytes),
    [s.bobDownload.size],
  )
  t.true(s.messagesTotal > 0)
  t.is(
    s.messagesTotal,
    Object.values(s.messages).reduce((a, b) => a + b, 0),
  )
  t.is(s.peers, 5)
  t.regex(c.stdout(), /erin {7}memory:\/\/erin/)
})

test('a demo that cannot finish in time stops, cleans up and exits 1 saying what to try', async (t) => {
  const r = await runBin(['demo', '--transport', 'memory', '--timeout', '1000', '--peers', '12'], {
    timeout: 40_000,
  })
  // On a fast machine the demo may finish within the second; then it exits 0.
  if (r.code === 0) return t.regex(r.stdout, /Summary/)
  t.is(r.code, 1)
  t.regex(r.stderr, /the demo did not finish within 1000 ms — try --transport memory, or a longer --timeout/)
  const root = /sample files in (\S+)\)/.exec(r.stdout)?.[1]
  if (root) t.true(await gone(root))
})
