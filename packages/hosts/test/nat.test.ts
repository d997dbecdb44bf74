import type { ExecutionContext } from 'ava'
import type { Host, PeerProcess } from '../src/index.js'
import { bytesOf, FAST, sha256, shareFile } from './helpers/net.js'

/** Writes several files into `host`'s share folder; returns it. */
async function shareFiles(host: Host, files: Record<string, Uint8Array>): Promise<string> {
  let dir = ''
  for (const [name, bytes] of Object.entries(files)) dir = await shareFile(host, name, bytes)
  return dir
}

import {
  downloadFrom,
  natConfig,
  natNetwork,
  natTest,
  type Overlay,
  type PathLine,
  pathsOf,
  RELAY_PORT,
  startNatNode,
} from './helpers/nat.js'

const SIZE = 2 * 1024 * 1024

/** Downloads `provider`'s file found by `query` and logs the path the connection took. */
async function fetchFrom(
  t: ExecutionContext,
  getter: PeerProcess,
  paths: PathLine[],
  provider: PeerProcess,
  query: string,
  sha: string,
): Promise<PathLine | undefined> {
  const { result, last } = await downloadFrom(t, getter, paths, provider, query, sha)
  t.log(
    `${getter.host.name} ← ${provider.host.name} (${query}): ${result.elapsedMs} ms, path ${last?.path} (${last?.direction})`,
  )
  return last
}

/**
 * One network per overlay: a public segment with the relay (and the bootstrap
 * peer, or the directory on its own host for central) and a reachable peer;
 * three LANs behind routers: two endpoint-independent NATs (a provider, a
 * downloader) and a symmetric one (a provider).
 */
async function natScenario(t: ExecutionContext, overlay: Overlay): Promise<void> {
  const central = overlay === 'central'
  const { pub, lans } = await natNetwork(t, central ? 3 : 2, [
    { mode: 'endpoint-independent', hosts: 1 },
    { mode: 'endpoint-independent', hosts: 1 },
    { mode: 'symmetric', hosts: 1 },
  ])
  const [relayHost, openHost, dirHost] = pub as [Host, Host, Host | undefined]
  const lanHost = (i: number) => lans[i]?.hosts[0] as Host
  const directory = dirHost
    ? await dirHost.startDirectory({ config: { options: FAST.directory } })
    : undefined
  const relays = [`tcp://${relayHost.address}:${RELAY_PORT}`]
  // central: the directory coordinates but carries no file bytes; the relay is a peer of its own.
  const relay = await startNatNode(t, relayHost, {
    overlay,
    bootstrap: directory ? [directory.address] : [],
    config: natConfig(overlay, {}),
    args: ['--relay-service', `tcp://${relayHost.address}:${RELAY_PORT}`],
  })
  const bootstrap = [directory?.address ?? relay.address]
  const file1 = bytesOf(SIZE, 11)
  const file2 = bytesOf(SIZE, 22)
  const file3 = bytesOf(SIZE, 33)
  const start = (h: Host, share?: string) =>
    startNatNode(t, h, {
      overlay,
      bootstrap,
      config: natConfig(overlay, {}),
      args: ['--relay', ...relays],
      ...(share ? { share: [share] } : {}),
    })
  const [p1, d2, p3, open] = await Promise.all([
    start(
      lanHost(0),
      await shareFiles(lanHost(0), {
        'Lighthouse.Keeper.Diaries.mkv': file1,
        'Quiet.Orchard.Notes.mkv': file2,
      }),
    ),
    start(lanHost(1)),
    start(lanHost(2), await shareFile(lanHost(2), 'Symmetric.Harbour.Tales.mkv', file3)),
    start(openHost),
  ])
  // Reachability: the peers behind NAT advertise their relayed address only; the open one its own.
  for (const p of [p1, d2, p3]) {
    t.true(
      p.info.listen.length > 0 && p.info.listen.every((a) => a.startsWith(`relay://${relayHost.address}:`)),
      `${p.host.name} advertises ${p.info.listen.join(' ')}`,
    )
  }
  t.deepEqual(
    open.info.listen,
    [`tcp://${openHost.address}:4001`],
    'the reachable peer advertises its address',
  )
  const d2Paths = pathsOf(d2)
  const openPaths = pathsOf(open)
  // Both behind endpoint-independent NATs: a direct connection after coordination over the relay.
  t.is(
    (await fetchFrom(t, d2, d2Paths, p1, 'lighthouse keeper diaries', sha256(file1)))?.path,
    'hole-punched',
  )
  // The path shows in the node's status too (peerkit status --json, GET /status).
  const status = JSON.parse(await d2.api('/status')) as { connections?: { peer: string; path?: string }[] }
  t.true(
    status.connections?.some((c) => c.peer === p1.id && c.path === 'hole-punched') ?? false,
    `status lists the hole-punched connection: ${JSON.stringify(status.connections)}`,
  )
  // The provider behind a symmetric NAT: the punch fails, the relay carries the bytes.
  t.is((await fetchFrom(t, d2, d2Paths, p3, 'symmetric harbour tales', sha256(file3)))?.path, 'relayed')
  // A reachable downloader: the provider behind NAT dials it, no relay: a push when the downloader dials
  // the provider's relayed address, or the provider's own earlier dial (flooding's and chord's neighbours).
  const pushed = await fetchFrom(t, open, openPaths, p1, 'quiet orchard notes', sha256(file2))
  t.true(
    pushed?.path === 'pushed' || (pushed?.path === 'direct' && pushed.direction === 'inbound'),
    `the provider dialed out (${pushed?.path}, ${pushed?.direction})`,
  )
}

for (const overlay of ['flooding', 'central', 'supernode', 'chord'] as const) {
  natTest(
    `nat (${overlay}): behind NAT, search and verified download: hole-punched, relayed (symmetric NAT), pushed`,
    (t) => natScenario(t, overlay),
  )
}
