import { join } from 'node:path'
import type { PeerRef } from '@peerkit/core'
import test from 'ava'
import { TRANSFER_PROTOCOL, type TransferRequest } from '../src/index.js'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { refOf, startPeers, tempDir, type Wire } from './helpers/peers.js'

for (const wire of ['memory', 'tcp'] as Wire[]) {
  test(`${wire}: requests outside the shares are refused with typed errors that reveal nothing`, async (t) => {
    const [d, a] = await startPeers(t, 2, { wire })
    const dir = await tempDir(t)
    const { record } = await shareSame([a], dir, 200_000)
    const ref: PeerRef = refOf(a)
    const ask = (body: unknown) =>
      d.network.request(ref, TRANSFER_PROTOCOL, body as TransferRequest, { timeout: 3000 })

    const unshared = 'cd'.repeat(32)
    const e1 = await t.throwsAsync(ask({ op: 'chunk', hash: unshared, index: 0, offset: 0, length: 10 }), {
      name: 'NotFoundError',
    })
    t.notRegex(e1?.message ?? '', new RegExp(dir.replace(/[/\\]/g, '.')))
    await t.throwsAsync(ask({ op: 'manifest', hash: unshared, from: 0, count: 1 }), { name: 'NotFoundError' })
    await t.throwsAsync(ask({ op: 'chunk', hash: record.hash, index: 4, offset: 0, length: 1 }), {
      name: 'InvalidOptionsError',
    })
    await t.throwsAsync(ask({ op: 'chunk', hash: record.hash, index: 3, offset: 0, length: 65_536 }), {
      name: 'InvalidOptionsError',
    })
    // What is shared still works on the same connection.
    const ok = await ask({ op: 'chunk', hash: record.hash, index: 0, offset: 0, length: 16 })
    t.is(ok.op === 'chunk' ? ok.data.length : -1, 16)

    // A path where a hash belongs, or an unknown op, breaks the protocol: refused, and the connection is closed.
    for (const bad of [
      { op: 'chunk', hash: '../../../etc/passwd', index: 0, offset: 0, length: 10 },
      { op: 'file', path: join(dir, 'copy-0-42.bin') },
    ]) {
      const err = await t.throwsAsync(ask(bad))
      t.true(
        ['ProtocolError', 'PeerUnreachableError'].includes(err?.name ?? ''),
        `${err?.name}: ${err?.message}`,
      )
      t.notRegex(err?.message ?? '', /root:|copy-0-42/)
    }
  })
}

test('a provider serves one peer at most maxServingPerPeer requests at once: the rest get RateLimitError, and a download from it still completes', async (t) => {
  const [d, a] = await startPeers(t, 2, { wire: 'memory', transfer: { maxServingPerPeer: 1 } })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([a], dir, 3 * 1024 * 1024 + 77)
  const ref = refOf(a)
  const ask = () =>
    d.network.request(
      ref,
      TRANSFER_PROTOCOL,
      { op: 'chunk', hash: record.hash, index: 0, offset: 0, length: 16 },
      { timeout: 5000 },
    )
  const settled = await Promise.allSettled(Array.from({ length: 64 }, ask))
  const refused = settled
    .filter((r) => r.status === 'rejected')
    .map((r) => (r as PromiseRejectedResult).reason)
  t.true(refused.length > 0, 'sixty-four at once are more than one')
  for (const err of refused) {
    t.is(err.name, 'RateLimitError')
    t.regex(err.message, /transfer\.maxServingPerPeer/)
  }
  for (const r of settled)
    if (r.status === 'fulfilled') t.is(r.value.op === 'chunk' ? r.value.data.length : -1, 16)
  // One at a time is always served: the count went back down.
  t.is((await ask()).op, 'chunk')
  // The downloader (8 requests in flight at first) rests and narrows its window instead of dropping the provider.
  const result = await d.download(record.hash, { to: join(dir, 'out.bin'), providers: [ref] }).done
  t.is(await fileSha(result.path), sha(bytes))
  t.deepEqual(
    result.sources.map((s) => s.id),
    [a.id],
  )
})
