import type { ExecutionContext } from 'ava'
import type { Host, PeerProcess } from '../src/index.js'
import {
  downloadFrom,
  natConfig,
  natNetwork,
  natTest,
  type PathLine,
  pathsOf,
  RELAY_PORT,
  startNatNode,
} from './helpers/nat.js'
import { bytesOf, sha256, shareFile } from './helpers/net.js'

/** MiB per transfer; `PEERKIT_NAT_BENCH_MB` sets another size. */
const MB = Number(process.env.PEERKIT_NAT_BENCH_MB ?? 16)

interface Measured {
  path: string
  ms: number
  mibPerS: number
}

async function measure(
  t: ExecutionContext,
  getter: PeerProcess,
  paths: PathLine[],
  provider: PeerProcess,
  query: string,
  sha: string,
): Promise<Measured> {
  const { result, last } = await downloadFrom(t, getter, paths, provider, query, sha)
  return { path: last?.path ?? 'unknown', ms: result.elapsedMs, mibPerS: MB / (result.elapsedMs / 1000) }
}

/**
 * The same download, in the same run, over three paths: two public hosts on one
 * LAN segment (direct, no NAT); a provider and a downloader behind two
 * endpoint-independent NATs (hole-punched); a provider behind a symmetric NAT
 * (relayed). docs/benchmarks.md has the figures.
 */
natTest(`nat bench: ${MB} MiB over a direct LAN connection, a hole-punched one and the relay`, async (t) => {
  const { pub, lans } = await natNetwork(t, 3, [
    { mode: 'endpoint-independent', hosts: 1 },
    { mode: 'endpoint-independent', hosts: 1 },
    { mode: 'symmetric', hosts: 1 },
  ])
  const [relayHost, lanA, lanB] = pub as [Host, Host, Host]
  const [punchProvider, getterHost, relayProvider] = lans.map((l) => l.hosts[0] as Host) as [Host, Host, Host]
  const relay = await startNatNode(t, relayHost, {
    overlay: 'flooding',
    config: natConfig('flooding', { service: { listen: `tcp://${relayHost.address}:${RELAY_PORT}` } }),
  })
  const relays = [`tcp://${relayHost.address}:${RELAY_PORT}`]
  const files = [bytesOf(MB * 1024 * 1024, 41), bytesOf(MB * 1024 * 1024, 42), bytesOf(MB * 1024 * 1024, 43)]
  const start = (h: Host, share?: string) =>
    startNatNode(t, h, {
      overlay: 'flooding',
      bootstrap: [relay.address],
      config: natConfig('flooding', { relays }),
      ...(share ? { share: [share] } : {}),
    })
  const [lanProvider, lanGetter, punched, getter, relayed] = await Promise.all([
    start(lanA, await shareFile(lanA, 'Bench.Lan.Copy.bin', files[0] as Buffer)),
    start(lanB),
    start(punchProvider, await shareFile(punchProvider, 'Bench.Punched.Copy.bin', files[1] as Buffer)),
    start(getterHost),
    start(relayProvider, await shareFile(relayProvider, 'Bench.Relayed.Copy.bin', files[2] as Buffer)),
  ])
  const lanPaths = pathsOf(lanGetter)
  const natPaths = pathsOf(getter)
  const lan = await measure(t, lanGetter, lanPaths, lanProvider, 'bench lan copy', sha256(files[0] as Buffer))
  const direct = await measure(t, getter, natPaths, punched, 'bench punched copy', sha256(files[1] as Buffer))
  const viaRelay = await measure(
    t,
    getter,
    natPaths,
    relayed,
    'bench relayed copy',
    sha256(files[2] as Buffer),
  )
  t.is(direct.path, 'hole-punched')
  t.is(viaRelay.path, 'relayed')
  for (const [name, m] of [
    ['direct LAN', lan],
    ['through two NATs, hole-punched', direct],
    ['through the relay (symmetric NAT)', viaRelay],
  ] as const)
    t.log(`${name}: ${MB} MiB in ${m.ms} ms = ${m.mibPerS.toFixed(1)} MiB/s (path ${m.path})`)
})
