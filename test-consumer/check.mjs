// What the consumer scripts share: a bound on the whole script, a search retried until it finds
// something (or its bound passes), and a round trip: Alice shares a file, Bob finds it by keyword,
// downloads it and compares the bytes.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Ends the process with a failure if the script has not finished within `ms`. */
export function bound(ms, what) {
  const timer = setTimeout(() => {
    console.error(`${what}: not finished within ${ms} ms`)
    process.exit(1)
  }, ms)
  timer.unref()
}

/** The first hit for `words` from `peer`, searching again until one comes or `ms` pass. */
export async function findOne(peer, words, ms = 20_000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    for await (const hit of peer.search(words, { timeout: Math.min(5000, until - Date.now()) })) return hit
  }
  throw new Error(`no hit for '${words}' within ${ms} ms`)
}

/**
 * Alice shares a file of random bytes; Bob searches it by keyword, downloads it from the providers
 * his overlay finds and checks the bytes. Returns what was checked; throws on any mismatch.
 */
export async function roundTrip(alice, bob) {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-consumer-files-'))
  try {
    const bytes = randomBytes(300_000 + Math.floor(Math.random() * 1000))
    await mkdir(join(dir, 'alice'))
    await writeFile(join(dir, 'alice', 'Harry.Potter.and.the.Chamber.mkv'), bytes)
    const [record] = await alice.share(join(dir, 'alice'))
    const hit = await findOne(bob, 'harry potter chamber')
    if (hit.hash !== record.hash) throw new Error(`found ${hit.hash}, shared ${record.hash}`)
    if (!hit.providers.some((p) => p.id === alice.id)) throw new Error('Alice is not among the providers')
    const result = await bob.download(hit.hash, { to: join(dir, 'bob.mkv') }).done
    const got = await readFile(result.path)
    if (!result.verified || !got.equals(bytes))
      throw new Error(`downloaded ${got.length} bytes that differ from the ${bytes.length} shared`)
    return { hash: hit.hash, bytes: got.length }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
