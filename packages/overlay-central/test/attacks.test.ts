import { heapAfterGc } from '@peerkit/compliance'
import { collect, type FileRecord } from '@peerkit/core'
import test from 'ava'
import type { Node } from './helpers/net.js'
import { ask, login, realAndSybils, recordOf, type TcpDirectory, tcpDirectory } from './helpers/tcp-attack.js'

// Attacks on the directory from many keys and many loopback source addresses
// (127.0.0.0/8 is all loopback on Linux): the directory listens on 127.0.0.1,
// attackers dial from 127.0.0.x (one /24) or 127.0.R.x (range R), honest peers
// from ranges of their own. PEERKIT_LONG_ATTACKS=1 runs bigger crowds.

const LONG = process.env.PEERKIT_LONG_ATTACKS === '1'
const MIB = 1024 * 1024

/** A 255-character name of many distinct words (as many derived keywords as a name allows). */
function junkName(key: number, i: number): string {
  let name = `junk ${key} ${i}`
  for (let w = 0; name.length < 250; w++) name += ` w${key.toString(36)}x${i.toString(36)}y${w.toString(36)}`
  return name.slice(0, 255)
}

/** The most a client may stuff into a record's keywords: 64 keywords of 128 characters. */
const STUFFED = Array.from({ length: 64 }, (_, k) =>
  `${String.fromCharCode(97 + (k % 26))}${k}`.padEnd(128, 'z'),
)

/**
 * One Sybil key from `from`: logs in and registers junk in batches of `batch`
 * until refused or `records` are in. Resolves to the records the directory took.
 */
async function sybil(
  net: TcpDirectory,
  from: string,
  key: number,
  records: number,
  batch = 50,
): Promise<number> {
  const node = await net.raw(from)
  await login(net, node)
  let total = 0
  for (let i = 0; i < records; i += batch) {
    const junk: FileRecord[] = []
    for (let j = i; j < Math.min(records, i + batch); j++) {
      junk.push(recordOf(node, junkName(key, j), { keywords: STUFFED, content: `${key}/${j}` }))
    }
    try {
      const r = await ask(net, node, { type: 'register', records: junk })
      if (r.type === 'register') total = r.total
    } catch (err) {
      if ((err as Error).name !== 'RateLimitError') throw err
      break
    }
  }
  await node.stop()
  return total
}

/** Runs `n` jobs, `width` at a time. */
async function inWaves<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += width) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => job(i + k)))))
  }
  return out
}

const honestFiles = (node: Node, n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => recordOf(node, `holiday ${tag} ${i}.jpg`))

// Serial: it measures the process heap, which tests running beside it would disturb.
test.serial(
  'Sybil keys from many addresses fill their budget: directory memory bounded, honest peers still register and are found',
  async (t) => {
    const net = await tcpDirectory(t, {
      maxBytesPerPrefix: 2 * MIB,
      maxBytesPerAddress: 2 * MIB,
      maxBytes: 8 * MIB,
      dropAfter: 600_000,
      heartbeatInterval: 60_000,
    })
    const honest = await net.node('127.0.1.1')
    await honest.overlay.publish(honestFiles(honest, 20, 'before'))
    const before = heapAfterGc()

    // Three ranges (127.0.0/24, 127.0.2/24, 127.0.3/24), 4 addresses each, 2 keys an address: 24 keys.
    const ranges = [0, 2, 3]
    const keys = LONG ? 96 : 24
    const perKey = LONG ? 2000 : 400
    const taken = await inWaves(keys, 8, (k) => {
      const range = ranges[k % ranges.length] as number
      return sybil(net, `127.0.${range}.${2 + ((k >> 2) % 4)}`, k, perKey)
    })
    const after = heapAfterGc()
    const growth = after - before
    const attackerRecords = taken.reduce((a, b) => a + b, 0)
    const usage = net.directory.server.usage()
    t.log(
      `${keys} Sybil keys tried ${keys * perKey} records with stuffed keywords; the directory took ${attackerRecords}` +
        ` (${(usage.bytes / MIB).toFixed(2)} MiB accounted); heap grew ${(growth / MIB).toFixed(1)} MiB`,
    )
    // What the attacker got: at most its ranges' budget.
    for (const r of ranges) t.true(net.directory.server.usage({ prefix: `127.0.${r}.0/24` }).bytes <= 2 * MIB)
    t.true(usage.bytes <= 8 * MIB)
    t.true(attackerRecords < (keys * perKey) / 2, 'most of the junk was refused')
    // The victim's memory: within a small multiple of what the budget accounts (before: 300 MB a key).
    t.true(growth < 24 * MIB, `heap grew ${(growth / MIB).toFixed(1)} MiB`)

    // Honest traffic: a new honest peer registers and is found, and the early records are still there.
    const late = await net.node('127.0.5.1')
    await late.overlay.publish(honestFiles(late, 20, 'after'))
    const searcher = await net.node('127.0.6.1')
    t.is((await collect(searcher.overlay.search({ keywords: ['holiday', 'after'] }))).length, 20)
    t.is((await collect(searcher.overlay.search({ keywords: ['holiday', 'before'] }))).length, 20)
    // The stuffed keywords found nothing: keywords come from names.
    t.is((await collect(searcher.overlay.search({ keywords: [STUFFED[0] as string] }))).length, 0)
  },
)

test('the whole registry full: existing honest records are kept and found; new registrations are refused by name', async (t) => {
  const net = await tcpDirectory(t, { maxBytesPerPrefix: 256 * 1024, maxBytes: 512 * 1024 })
  const honest = await net.node('127.0.1.1')
  await honest.overlay.publish(honestFiles(honest, 10, 'kept'))
  // Three ranges fill the registry (each up to its own budget, the third up to what is left).
  await Promise.all([20, 21, 22].map((r, k) => sybil(net, `127.0.${r}.2`, k, 1000, 5)))
  t.true(net.directory.server.usage().bytes > 512 * 1024 - 5 * 10_000, 'the registry is full')
  const searcher = await net.node('127.0.6.1')
  t.is((await collect(searcher.overlay.search({ keywords: ['holiday', 'kept'] }))).length, 10)
  const late = await net.node('127.0.5.1')
  await t.throwsAsync(late.overlay.publish(honestFiles(late, 100, 'late')), {
    name: 'RateLimitError',
    message: /directory\.maxBytes\b/,
  })
  t.true(net.directory.server.usage().bytes <= 512 * 1024)
})

test('256 keys registering one hash do not push the honest provider out of the providers returned', async (t) => {
  const net = await tcpDirectory(t)
  // 256 keys in one /24 (1024 in 4 with PEERKIT_LONG_ATTACKS), 32 keys an address, 8 addresses a range.
  const ranges = LONG ? 4 : 1
  const sybils = 256 * ranges
  const content = 'ubuntu-24.04-desktop-amd64.iso'
  // Eight handshakes at a time: more only load this process (each dial has a 5 s bound).
  await inWaves(sybils, 8, async (k) => {
    const node = await net.raw(`127.0.${30 + (k % ranges)}.${2 + (Math.floor(k / ranges) % 8)}`)
    await login(net, node)
    await ask(net, node, { type: 'register', records: [recordOf(node, content)] })
  })
  // The honest provider comes last: the worst case for "first come first served".
  const honest = await net.node('127.0.1.1')
  const record = recordOf(honest, content)
  await honest.overlay.publish([record])
  const searcher = await net.node('127.0.2.1')
  const providers = await collect(searcher.overlay.providers(record.hash))
  const at = providers.findIndex((p) => p.id === honest.id)
  t.true(at >= 0, 'the honest provider is returned')
  t.true(at <= ranges, `one place a round per address range (honest at ${at})`)
  t.true(providers.length <= 256)
  const [hit] = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'] }))
  t.true(hit?.providers.some((p) => p.id === honest.id))
})

test('keywords a client sends are ignored: a stuffed record is found by its name only', async (t) => {
  const net = await tcpDirectory(t)
  const mallory = await net.raw('127.0.40.2')
  await login(net, mallory)
  const junk = recordOf(mallory, 'junk.bin', {
    keywords: ['ubuntu', 'desktop', 'iso', ...STUFFED.slice(0, 20)],
  })
  await ask(net, mallory, { type: 'register', records: [junk] })
  const honest = await net.node('127.0.1.1')
  const real = recordOf(honest, 'Ubuntu Desktop.iso')
  await honest.overlay.publish([real])
  const searcher = await net.node('127.0.2.1')
  const hits = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'] }))
  t.deepEqual(
    hits.map((h) => h.hash),
    [real.hash],
  )
  t.deepEqual(
    (await collect(searcher.overlay.search({ keywords: ['junk'] }))).map((h) => h.hash),
    [junk.hash],
  )
})

test('three Sybil providers in one address range do not outrank the real file', async (t) => {
  const net = await tcpDirectory(t)
  const { real, fake } = await realAndSybils(net)
  const searcher = await net.node('127.0.2.1')
  const hits = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'] }))
  t.deepEqual(
    hits.map((h) => [h.hash, h.providers.length]),
    [
      [real.hash, 1],
      [fake.hash, 3],
    ],
  )
  // Providers in two ranges outrank three keys in one.
  const other = await net.node('127.0.42.1')
  await other.overlay.publish([recordOf(other, 'Ubuntu Desktop 24.04 (mirror).iso', { content: 'malware' })])
  const again = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'], limit: 1 }))
  t.is(again[0]?.hash, fake.hash)
})

test('keys crowding one range behind junk files do not push a file from two ranges out of a limited search', async (t) => {
  const net = await tcpDirectory(t)
  const content = 'the real ubuntu desktop'
  for (const from of ['127.0.1.1', '127.0.2.1']) {
    const honest = await net.node(from)
    await honest.overlay.publish([recordOf(honest, 'Ubuntu Desktop 24.04.iso', { content })])
  }
  // 5 keys of one range each register the same 20 junk files (5 providers each, 1 range) named to sort first.
  await inWaves(5, 5, async (k) => {
    const node = await net.raw(`127.0.43.${2 + k}`)
    await login(net, node)
    const junk = Array.from({ length: 20 }, (_, i) => recordOf(node, `0000 ubuntu desktop ${i}.iso`))
    await ask(net, node, { type: 'register', records: junk })
  })
  const searcher = await net.node('127.0.6.1')
  const hits = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'], limit: 5 }))
  t.is(hits.length, 5)
  t.is(hits[0]?.name, 'Ubuntu Desktop 24.04.iso', 'two ranges outrank five keys of one')
  t.is(hits[0]?.providers.length, 2)
  t.is(hits[1]?.providers.length, 5, 'the junk still lists all its providers')
})

test('logins per source address and per range are bounded; a peer from elsewhere still logs in', async (t) => {
  const net = await tcpDirectory(t, { maxPeersPerAddress: 8, maxPeersPerPrefix: 12 })
  const outcomes = await inWaves(LONG ? 200 : 20, 10, async (k) => {
    const node = await net.raw(k < 10 ? '127.0.50.2' : '127.0.50.3')
    try {
      await login(net, node)
      return 'in'
    } catch (err) {
      t.is((err as Error).name, 'RateLimitError')
      t.regex((err as Error).message, /directory\.maxPeersPer(Address|Prefix)/)
      await node.stop()
      return 'refused'
    }
  })
  t.is(outcomes.filter((o) => o === 'in').length, 12)
  t.is(net.directory.server.peers().length, 12)
  const honest = await net.node('127.0.1.1')
  await honest.overlay.publish(honestFiles(honest, 3, 'ok'))
  t.is(net.directory.server.recordsOf(honest.id), 3)
})

test('a name longer than maxNameLength is refused, naming the option; nothing of the batch is applied', async (t) => {
  const net = await tcpDirectory(t, { maxNameLength: 100 })
  const mallory = await net.raw('127.0.60.2')
  await login(net, mallory)
  await t.throwsAsync(
    ask(net, mallory, {
      type: 'register',
      records: [
        recordOf(mallory, 'fine.txt'),
        recordOf(mallory, `${'x'.repeat(200)}.txt`, { keywords: ['x'] }),
      ],
    }),
    { name: 'RateLimitError', message: /directory\.maxNameLength; got 204/ },
  )
  t.is(net.directory.server.recordsOf(mallory.id), 0)
  t.is(net.directory.server.usage().records, 0)
})
