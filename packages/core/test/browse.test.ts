import test from 'ava'
import { type BrowseFile, createPeer } from '../src/index.js'
import { registerStubs, STUB_PEER } from './helpers/stub-components.js'

registerStubs()
const base = STUB_PEER

test('browse lists another peer’s shares by name, page by page, bounded by its maxPerPage', async (t) => {
  const bob = await createPeer({ ...base, listen: ['stub://browse-bob'], browse: { maxPerPage: 4 } })
  const alice = await createPeer({ ...base, listen: ['stub://browse-alice'] })
  t.teardown(() => Promise.all([alice.stop(), bob.stop()]))
  await bob.start()
  await alice.start()
  const names = Array.from({ length: 10 }, (_, i) => `song-${String(9 - i).padStart(2, '0')}.ogg`)
  for (const n of names) await bob.share(n)
  const seen: BrowseFile[] = []
  let after: string | undefined
  let pages = 0
  do {
    const page = await alice.browse('stub://browse-bob', { after, limit: 50 })
    t.is(page.peer.id, bob.id)
    t.is(page.total, 10)
    t.true(page.files.length <= 4, 'the peer gives at most its maxPerPage, whatever is asked')
    seen.push(...page.files)
    after = page.next
    pages++
  } while (after !== undefined && pages < 10)
  t.is(pages, 3)
  t.deepEqual(
    seen.map((f) => f.name),
    [...names].sort(),
    'every file once, in the order of their names',
  )
  const two = await alice.browse(bob.id, { limit: 2 })
  t.deepEqual(
    two.files.map((f) => f.name),
    ['song-00.ogg', 'song-01.ogg'],
    'by PeerId once its address is known',
  )
})

test('a peer with browse.allow false refuses: UnsupportedProtocolError naming it', async (t) => {
  const carol = await createPeer({ ...base, listen: ['stub://browse-carol'], browse: { allow: false } })
  const alice = await createPeer({ ...base, listen: ['stub://browse-alice2'] })
  t.teardown(() => Promise.all([alice.stop(), carol.stop()]))
  await carol.start()
  await alice.start()
  await carol.share('private.txt')
  const err = await t.throwsAsync(alice.browse('stub://browse-carol'), { name: 'UnsupportedProtocolError' })
  t.regex(err?.message ?? '', new RegExp(`${carol.id} does not let others browse`))
  await t.throwsAsync(alice.browse('unknownpeerid'), {
    name: 'PeerUnreachableError',
    message: /no address is known/,
  })
})

test('browse options are checked: maxPerPage within 1 … 1000, no unknown field', async (t) => {
  await t.throwsAsync(createPeer({ ...base, browse: { maxPerPage: 0 } }), {
    name: 'InvalidOptionsError',
    message: /config\.browse\.maxPerPage/,
  })
  await t.throwsAsync(createPeer({ ...base, browse: { alow: false } as never }), {
    name: 'InvalidOptionsError',
    message: /config\.browse/,
  })
})
