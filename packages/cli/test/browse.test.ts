import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ApiClient, runCli } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

test('peerkit browse PEER lists the files another peer shares, by its address or its id; the API pages them', async (t) => {
  const dir = await tempDir(t, 'browse')
  const { dir: shared } = await shareFolder(dir, 'alice')
  for (let i = 0; i < 5; i++) await writeFile(join(shared, `track-${i}.ogg`), `track ${i}`)
  const net = await inProcessNet(t, 'flooding')
  const alice = await net.node({ share: [shared] })
  const bob = await net.node({})
  const address = alice.peer.addresses()[0] as string
  const client = new ApiClient(bob.apiUrl, { token: bob.token })
  const first = await client.browse(address, { limit: 3 })
  t.is(first.peer.id, alice.peer.id)
  t.is(first.total, 7)
  t.deepEqual(
    first.files.map((f) => f.name),
    [MOVIE, 'alice-notes.txt', 'track-0.ogg'],
  )
  const rest = await client.browse(alice.peer.id, { after: first.next, limit: 10 })
  t.deepEqual(
    rest.files.map((f) => f.name),
    ['track-1.ogg', 'track-2.ogg', 'track-3.ogg', 'track-4.ogg'],
  )
  t.is(rest.next, undefined)

  const json = captureIo({ cwd: dir })
  t.is(await runCli(['browse', address, '--all', '--api', bob.apiUrl, '--json'], json.io), 0, json.stderr())
  const out = JSON.parse(json.stdout())
  t.is(out.peer.id, alice.peer.id)
  t.is(out.total, 7)
  t.is(out.files.length, 7)
  const text = captureIo({ cwd: dir })
  t.is(await runCli(['browse', address, '--limit', '2', '--api', bob.apiUrl], text.io), 0, text.stderr())
  t.is(text.stdout().trim().split('\n').length, 2)
  t.regex(text.stderr(), /shares 7 files; listed 2 \(of 7; --all lists every one\)/)
  const status = captureIo({ cwd: dir })
  t.is(await runCli(['status', '--api', bob.apiUrl], status.io), 0, status.stderr())
  t.regex(status.stdout(), /^overlay {4}connected$/m, 'status says the node is connected to its overlay')
})

test('a node with browse.allow false refuses: the API answers 403 and peerkit browse exits 1 saying so', async (t) => {
  const dir = await tempDir(t, 'browse-refused')
  const { dir: shared } = await shareFolder(dir, 'carol')
  const net = await inProcessNet(t, 'flooding')
  const bob = await net.node({})
  const address = `memory://browse-refused-${process.pid}`
  const carol = await net.node({
    share: [shared],
    node: {
      config: {
        overlay: 'flooding',
        transport: 'memory',
        listen: [address],
        bootstrap: [...net.bootstrap],
        browse: { allow: false },
      },
    },
  })
  t.is(carol.peer.status().shares, 2)
  const err = await t.throwsAsync(new ApiClient(bob.apiUrl, { token: bob.token }).browse(address), {
    name: 'UnsupportedProtocolError',
  })
  t.regex(err?.message ?? '', /does not let others browse its files/)
  t.is((err as unknown as { status: number }).status, 403)
  const io = captureIo({ cwd: dir })
  t.is(await runCli(['browse', address, '--api', bob.apiUrl], io.io), 1)
  t.regex(io.stderr(), /does not let others browse its files/)
})
