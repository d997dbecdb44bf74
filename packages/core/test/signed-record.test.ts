import test from 'ava'
import { GenerationCache } from '../src/generation-cache.js'
import {
  checkRecord,
  type FileRecord,
  Identity,
  keywords,
  type SignedFileRecord,
  signedFileRecordSchema,
  signRecord,
  unsignedRecord,
  verifyRecord,
} from '../src/index.js'
import { recordSigningBytes } from '../src/signed-record.js'

const provider = Identity.generate()

function record(name = 'Ubuntu.Desktop.24.04.iso', id = provider.peerId): FileRecord {
  return {
    hash: 'ab'.repeat(32),
    name,
    size: 6_000_000_000,
    chunkSize: 1 << 20,
    keywords: keywords(name),
    provider: { id, addresses: ['tcp://127.0.0.1:4001'] },
  }
}

test('a record signed by its provider verifies until it expires, and passes the wire schema', (t) => {
  const signed = signRecord(provider, record(), 1000)
  t.true(verifyRecord(signed, 0))
  t.true(verifyRecord(signed, 999))
  t.is(checkRecord(signed, 1000), 'expired')
  t.true(signedFileRecordSchema.safeParse(signed).success)
  t.deepEqual(unsignedRecord(signed), record())
})

test('changing any signed field breaks the signature', (t) => {
  const signed = signRecord(provider, record(), 1000)
  const other = Identity.generate()
  const changes: Partial<SignedFileRecord>[] = [
    { hash: 'cd'.repeat(32) },
    { size: 1000 },
    { chunkSize: 1 << 16 },
    { provider: { id: other.peerId, addresses: signed.provider.addresses } },
    { provider: { id: provider.peerId, addresses: ['tcp://10.6.6.6:1'] } },
    { expires: 10_000 },
  ]
  for (const change of changes)
    t.is(checkRecord({ ...signed, ...change }, 0), 'signature', JSON.stringify(change))
  // a new name with its own keywords: the name is signed
  const renamed = 'Other.File.iso'
  t.is(checkRecord({ ...signed, name: renamed, keywords: keywords(renamed) }, 0), 'signature')
})

test('keywords must be those of the name', (t) => {
  const signed = signRecord(provider, record(), 1000)
  t.is(checkRecord({ ...signed, keywords: [...signed.keywords, 'ubuntu2'] }, 0), 'keywords')
  t.is(checkRecord({ ...signed, keywords: signed.keywords.slice(1) }, 0), 'keywords')
})

test('only the provider signs its record; a forged signature never verifies', (t) => {
  const victim = Identity.generate()
  t.throws(() => signRecord(provider, record('x.iso', victim.peerId), 1000), { instanceOf: TypeError })
  // the attacker signs a record naming the victim with its own key
  const bytes = recordSigningBytes(record('x.iso', victim.peerId), 1000)
  const forged: SignedFileRecord = {
    ...record('x.iso', victim.peerId),
    expires: 1000,
    signature: Buffer.from(provider.sign(bytes)).toString('base64url'),
  }
  t.is(checkRecord(forged, 0), 'signature')
  t.false(signedFileRecordSchema.safeParse({ ...forged, signature: 'short' }).success)
})

test('the signed bytes tell fields apart (no field can leak into another)', (t) => {
  const a = recordSigningBytes({ ...record(), name: 'a","b' }, 1)
  const b = recordSigningBytes({ ...record(), name: 'a' }, 1)
  t.notDeepEqual(a, b)
  t.regex(new TextDecoder().decode(a), /^peerkit\/record-signature\/1\n\[/)
})

test('a verified signature vouches only for the fields it signed: the cache compares every signed field and the keywords', (t) => {
  const signed = signRecord(provider, record('Cached.Once.iso'), 1000)
  t.is(checkRecord(signed, 0), undefined) // verified, now cached
  const other = Identity.generate()
  for (const change of [
    { size: 1 },
    { chunkSize: signed.chunkSize * 2 },
    { hash: 'f'.repeat(64) },
    { provider: { id: provider.peerId, addresses: ['tcp://10.6.6.6:1'] } },
    { provider: { id: provider.peerId, addresses: [...signed.provider.addresses, 'tcp://10.6.6.6:1'] } },
    { provider: { id: provider.peerId, addresses: [] } },
    { provider: { id: other.peerId, addresses: signed.provider.addresses } },
    { expires: 2000 },
    { name: 'Cached.Twice.iso', keywords: keywords('Cached.Twice.iso') },
  ] as Partial<SignedFileRecord>[])
    t.is(checkRecord({ ...signed, ...change }, 0), 'signature', JSON.stringify(change))
  t.is(checkRecord({ ...signed, keywords: ['cached'] }, 0), 'keywords')
  t.is(checkRecord({ ...signed, keywords: [...signed.keywords, 'iso2'] }, 0), 'keywords')
  t.is(checkRecord(signed, 0), undefined)
  t.is(checkRecord(signed, 1000), 'expired')
})

test('the record caches hold at most two generations, and keep what was used in the last one', (t) => {
  const cache = new GenerationCache<number, string>(4)
  for (let i = 0; i < 100; i++) {
    cache.set(i, `v${i}`)
    t.true(cache.size <= 8)
    if (i >= 1) t.is(cache.get(0), 'v0', `the entry used at every step survives (step ${i})`)
  }
  t.is(cache.get(50), undefined, 'an entry not used for two generations is gone')
  t.is(cache.get(99), 'v99')
})
