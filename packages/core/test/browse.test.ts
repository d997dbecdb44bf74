import test from 'ava'
import { container as root } from 'tsyringe'
import { BROWSE_PROTOCOL } from '../src/browse.js'
import { type BrowseFile, CLOCK, createPeer, MAX_BROWSE_PAGE } from '../src/index.js'
import { TestClock } from '../src/testing.js'
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

test('attack: a peer asking for huge pages, fast, gets maxPerPage files each time and costs at most one sort of the shares per 2 s; an honest browse still works', async (t) => {
  // The victim on a virtual clock: its listing's 2 s lifetime passes only when the test says.
  const clock = new TestClock()
  const parent = root.createChildContainer()
  parent.register(CLOCK, { useValue: clock })
  const victim = await createPeer(
    { ...STUB_PEER, listen: ['stub://browse-victim'], browse: { maxPerPage: 5 } },
    { container: parent },
  )
  const attacker = await createPeer({ ...STUB_PEER, listen: ['stub://browse-attacker'] })
  const honest = await createPeer({ ...STUB_PEER, listen: ['stub://browse-honest'] })
  t.teardown(() => Promise.all([victim.stop(), attacker.stop(), honest.stop()]))
  for (const p of [victim, attacker, honest]) await p.start()
  for (let i = 0; i < 40; i++) await victim.share(`file-${String(i).padStart(3, '0')}.bin`)
  // Count the victim's walks over its shares (what a browse request may cost).
  const shares = victim.shares
  let walks = 0
  const records = shares.records.bind(shares)
  shares.records = () => {
    walks++
    return records()
  }
  const ref = await attacker.network.dialAddress('stub://browse-victim')
  const flood = async () => {
    const answers: { files: unknown[] }[] = []
    for (let round = 0; round < 10; round++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            attacker.network.request(ref, BROWSE_PROTOCOL, { limit: MAX_BROWSE_PAGE, after: `file-${i}` }),
          ),
        )),
      )
    }
    return answers
  }
  const answers = await flood()
  t.true(
    answers.every((a) => a.files.length <= 5),
    'never more than maxPerPage, whatever is asked',
  )
  t.is(walks, 1, `${walks} walks of the shares for 200 requests within one virtual instant`)
  await clock.advance(1999)
  await flood()
  t.is(walks, 1, 'none more before 2 s have passed')
  await clock.advance(1)
  await flood()
  t.is(walks, 2, 'one more once they have')
  // A malformed request (a page of 0, a 3 KB cursor) is a protocol error for the asker alone.
  await t.throwsAsync(attacker.network.request(ref, BROWSE_PROTOCOL, { limit: 0 } as never))
  const page = await honest.browse('stub://browse-victim', { limit: 3 })
  t.deepEqual(
    page.files.map((f) => f.name),
    ['file-000.bin', 'file-001.bin', 'file-002.bin'],
  )
})
