import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashFile } from '@peerkit/content'
import type { DownloadResult, Peer } from '@peerkit/core'
import { CommandError } from '../errors.js'
import { formatBytes, formatMs, plural } from '../format.js'
import type { Io } from '../io.js'
import { ProgressBoard } from '../progress-board.js'
import { DemoNetwork, type DemoTransport } from './demo-network.js'
import { downloadHit, searchUntil, settle } from './demo-steps.js'
import { ALICE_FILE, NAMES, samplePlan, WANTED, writeSampleFiles } from './sample-files.js'

/** Milliseconds the network gets to stop before the sample folder is removed regardless. */
export const STOP_TIMEOUT = 10_000
/** Milliseconds between steps when the story is told on a terminal. */
const STEP_PAUSE = 400

export interface DemoOptions {
  overlay: string
  /** Peers besides the directory, Alice included. @default 4 */
  peers: number
  transport: DemoTransport
  /** Options per component (as in a peer configuration), for tests and tuning. */
  options?: Record<string, unknown>
  signal?: AbortSignal
  /** Milliseconds between steps on a terminal. @default 400 */
  stepPause?: number
}

/** What the demo measured: the summary, as numbers. */
export interface DemoSummary {
  overlay: string
  transport: DemoTransport
  peers: number
  /** Overlay messages sent by every peer (and the directory), by kind. */
  messages: Record<string, number>
  messagesTotal: number
  hops?: number
  searchMs: number
  download: DownloadResult
  /** Bytes Alice got from each source, by demo name. */
  sources: Record<string, number>
  bobDownload: DownloadResult
  verified: boolean
  elapsedMs: number
}

/**
 * The Alice story, narrated on `io.stdout` as it happens: a small network
 * starts, Alice joins with a fresh address, registers her files, searches
 * "harry potter", downloads from every peer that has it (live progress) and
 * verifies the content hash, while Bob downloads one of her files. Every
 * peer is stopped and the sample folder removed, whatever happens.
 */
export async function runDemo(options: DemoOptions, io: Io): Promise<DemoSummary> {
  const started = Date.now()
  const say = (line = '') => io.stdout.write(`${line}\n`)
  // On a terminal each step gets a moment on screen; piped output runs at full speed.
  const pause = io.stdout.isTTY ? (options.stepPause ?? STEP_PAUSE) : 0
  let n = 0
  const step = async (title: string) => {
    if (n > 0 && pause > 0) await new Promise((r) => setTimeout(r, pause))
    say(`\n${++n}. ${title}`)
  }
  const root = await mkdtemp(join(tmpdir(), 'peerkit-demo-'))
  const net = new DemoNetwork({
    overlay: options.overlay,
    transport: options.transport,
    options: options.options,
  })
  const signal = options.signal
  const checkAbort = () => {
    if (signal?.aborted) throw new CommandError('the demo was interrupted')
  }
  // Stopping the peers makes whatever is under way fail fast, so the clean-up below runs.
  const onAbort = () => void net.stop()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const others = NAMES.slice(0, options.peers - 1)
    const plan = samplePlan(others)
    const folders = await writeSampleFiles(root, plan)
    say(
      `peerkit demo: the ${options.overlay} overlay over ${options.transport}, ${plural(options.peers, 'peer')}` +
        ` (sample files in ${root})`,
    )

    await step(`Starting the network${options.overlay === 'central' ? ' and its directory server' : ''}`)
    if (options.overlay === 'central') {
      const d = await net.startDirectory()
      say(`   directory  ${d.addresses().join(' ')}  (the Napster-style server every peer logs in to)`)
    }
    for (const name of others) {
      checkAbort()
      const peer = await net.addPeer(name)
      say(`   ${name.padEnd(9)}  ${peer.addresses().join(' ')}  role ${peer.overlay.role()}`)
    }
    // A lone first peer has nobody to be a neighbor of until Alice comes.
    if (others.length > 1 || net.directory) await settle([...net.peers.values()])
    for (const name of others) {
      const folder = folders.get(name)
      if (!folder) continue
      const records = await mustGet(net.peers, name).share(folder)
      say(`   ${name.padEnd(9)}  shares ${records.map((r) => r.name).join(', ')}`)
    }

    await step('Alice joins with a fresh identity and a fresh address')
    const alice = await net.addPeer('alice', true)
    await settle([alice])
    say(`   alice      id ${alice.id}`)
    say(`              at ${alice.addresses().join(' ')}  role ${alice.overlay.role()}`)
    say('              (peers know her by her key, not her address: it is new every time she connects)')

    await step('Alice registers her files')
    const aliceRecords = await alice.share(folders.get('alice') ?? root)
    for (const r of aliceRecords)
      say(`   hashed and published ${r.name} (${formatBytes(r.size)}) ${r.hash.slice(0, 16)}…`)

    await step('Alice searches "harry potter"')
    const search = await searchUntil(
      alice,
      'harry potter',
      (hits) => hits.some((h) => h.name === WANTED),
      say,
      signal,
    )
    for (const hit of search.hits) {
      const who = hit.providers.map((p) => net.nameOf(p.id)).join(', ')
      const hops = hit.hops === undefined ? '' : `, ${plural(hit.hops, 'hop')}`
      say(`   found ${hit.name} (${formatBytes(hit.size)}) at ${who}${hops}`)
    }
    const wanted = search.hits.find((h) => h.name === WANTED)
    if (!wanted) {
      throw new CommandError(
        `Alice found no copy of ${WANTED} after several searches — the ${options.overlay} overlay did not ` +
          'settle; run the demo again, or with --log-level debug',
      )
    }
    say(
      `   first hit after ${formatMs(search.firstHitMs)}; every search ended after ${formatMs(search.totalMs)}`,
    )

    await step('Bob looks for something of Alice\'s: "hobbit"')
    const bob = mustGet(net.peers, 'bob')
    const bobSearch = await searchUntil(
      bob,
      'hobbit',
      (hits) => hits.some((h) => h.name === ALICE_FILE),
      say,
      signal,
    )
    const hobbit = bobSearch.hits.find((h) => h.name === ALICE_FILE)
    if (!hobbit)
      throw new CommandError(`Bob found no copy of ${ALICE_FILE}: Alice's files did not get published`)
    say(
      `   found ${hobbit.name} (${formatBytes(hobbit.size)}) at ${hobbit.providers.map((p) => net.nameOf(p.id)).join(', ')}`,
    )

    await step(
      `Alice downloads ${WANTED} from ${wanted.providers.map((p) => net.nameOf(p.id)).join(', ')}; ` +
        'meanwhile Bob downloads from Alice',
    )
    const board = new ProgressBoard(io.stdout, { plain: true })
    let download: DownloadResult
    let bobDownload: DownloadResult
    try {
      ;[download, bobDownload] = await Promise.all([
        downloadHit(
          alice,
          wanted,
          join(root, 'downloads', 'alice', WANTED),
          board.row('   alice ← harry potter'),
          signal,
        ),
        downloadHit(
          bob,
          hobbit,
          join(root, 'downloads', 'bob', ALICE_FILE),
          board.row('   bob   ← the hobbit  '),
          signal,
        ),
      ])
    } finally {
      board.stop()
    }
    const sources: Record<string, number> = {}
    for (const s of download.sources) sources[net.nameOf(s.id)] = (sources[net.nameOf(s.id)] ?? 0) + s.bytes
    say(`   alice got ${formatBytes(download.size)} in ${formatMs(download.elapsedMs)}`)
    say(`   bob got ${formatBytes(bobDownload.size)} in ${formatMs(bobDownload.elapsedMs)} from alice`)

    await step('Alice checks the file against its content hash')
    const check = await hashFile(download.path)
    const verified = check.hash === wanted.hash
    say(`   Merkle root of ${download.path}`)
    say(`   = ${check.hash}`)
    say(
      verified
        ? '   matches the hash she searched for: the bytes are exactly the published file ✓'
        : '   DOES NOT MATCH ✗',
    )
    if (!verified) throw new CommandError('the downloaded file does not match its content hash')

    const messages: Record<string, number> = {}
    const stats = [...net.peers.values()].map((p) => p.overlay.stats())
    if (net.directory) stats.push(net.directory.server.stats())
    for (const s of stats)
      for (const [kind, n] of Object.entries(s.sent)) messages[kind] = (messages[kind] ?? 0) + n
    const messagesTotal = Object.values(messages).reduce((a, b) => a + b, 0)
    const summary: DemoSummary = {
      overlay: options.overlay,
      transport: options.transport,
      peers: options.peers,
      messages,
      messagesTotal,
      hops: wanted.hops,
      searchMs: search.firstHitMs,
      download,
      sources,
      bobDownload,
      verified,
      elapsedMs: Date.now() - started,
    }
    await step('Summary')
    const kinds = Object.entries(messages)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')
    say(`   overlay messages sent  ${messagesTotal}${kinds ? ` (${kinds})` : ''}`)
    say(
      `   search                 first hit in ${formatMs(search.firstHitMs)}${wanted.hops === undefined ? '' : `, ${plural(wanted.hops, 'hop')}`}`,
    )
    say(
      `   download               ${formatBytes(download.size)} in ${formatMs(download.elapsedMs)}, ` +
        `from ${Object.entries(sources)
          .map(([n, b]) => `${n} ${formatBytes(b)}`)
          .join(', ')}`,
    )
    say(`   whole demo             ${formatMs(summary.elapsedMs)}`)
    say('\nNext: run your own peers with `peerkit node --help`.')
    return summary
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // Bounded, so the sample folder goes even if a peer does not stop.
    await Promise.race([net.stop(), new Promise((r) => setTimeout(r, STOP_TIMEOUT).unref())])
    await rm(root, { recursive: true, force: true })
  }
}

function mustGet(peers: Map<string, Peer>, name: string): Peer {
  const p = peers.get(name)
  if (!p) throw new CommandError(`the demo has no peer named ${name}`)
  return p
}
