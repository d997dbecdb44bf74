import { join } from 'node:path'
import { type ContentHash, OVERLAY, overlays, type PeerRef } from '@peerkit/core'
import test from 'ava'
import { Lifecycle } from 'tsyringe'
import { fileSha, sha, shareSame } from './helpers/files.js'
import { NoOverlay, refOf, startPeers, tempDir } from './helpers/peers.js'

const MiB = 1024 * 1024

/** What the `test-list` overlay answers to `providers(hash)`, and how often it was asked. */
const listed: PeerRef[] = []
let asked = 0

/** An overlay that finds the peers in `listed` as the providers of any hash. */
class ListOverlay extends NoOverlay {
  override async *providers(_hash: ContentHash): AsyncIterable<PeerRef> {
    asked++
    yield* [...listed]
  }
}

if (!overlays.has('test-list')) {
  overlays.register('test-list', () => (c) => {
    c.register(OVERLAY, { useClass: ListOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  })
}

test('peer.download asks the overlay again while every provider is gone, and completes from one found later', async (t) => {
  const [d, p, q] = await startPeers(t, 3, { wire: 'memory', overlay: 'test-list' })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([p, q], dir, MiB)
  listed.splice(0, listed.length, refOf(p))
  await p.stop()
  const dl = d.download(record.hash, {
    to: join(dir, 'out.bin'),
    size: record.size,
    chunkSize: record.chunkSize,
  })
  // The only provider listed is gone: the download waits and says why (its state event, within a bound).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not waiting in 20 s: ${JSON.stringify(dl.status())}`)),
      20_000,
    )
    const check = () => {
      if (dl.status().state !== 'waiting') return
      clearTimeout(timer)
      dl.off('state', check)
      resolve()
    }
    dl.on('state', check)
    check()
  })
  t.is(dl.status().state, 'waiting', JSON.stringify(dl.status()))
  t.regex(dl.status().reason ?? '', /every provider is gone/)
  const askedBefore = asked
  listed.splice(0, listed.length, refOf(q))
  const result = await dl.done
  t.true(asked > askedBefore, 'the overlay was asked again')
  t.deepEqual(
    result.sources.map((s) => s.id),
    [q.network.self().id],
  )
  t.is(await fileSha(result.path), sha(bytes))
})

/** What the `test-late` overlay finds: nobody on its first search (a provider missed for a moment), then `lateListed`. */
const lateListed: PeerRef[] = []
let lateAsked = 0

class LateOverlay extends NoOverlay {
  override async *providers(_hash: ContentHash): AsyncIterable<PeerRef> {
    if (lateAsked++ === 0) return
    yield* [...lateListed]
  }
}

if (!overlays.has('test-late')) {
  overlays.register('test-late', () => (c) => {
    c.register(OVERLAY, { useClass: LateOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  })
}

test('peer.download looks for providers again when the first search ends empty, within providerTimeout', async (t) => {
  const [d, p] = await startPeers(t, 2, { wire: 'memory', overlay: 'test-late' })
  const dir = await tempDir(t)
  const { record, bytes } = await shareSame([p], dir, MiB)
  lateListed.splice(0, lateListed.length, refOf(p))
  const result = await d.download(record.hash, { to: join(dir, 'out.bin'), providerTimeout: 30_000 }).done
  t.is(lateAsked, 2, 'asked twice: the first search found nobody')
  t.deepEqual(
    result.sources.map((s) => s.id),
    [p.network.self().id],
  )
  t.is(await fileSha(result.path), sha(bytes))
})
