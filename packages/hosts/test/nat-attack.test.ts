import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ExecutionContext } from 'ava'
import type { Host } from '../src/index.js'
import { natConfig, natNetwork, natTest, pathsOf, RELAY_PORT, startNatNode } from './helpers/nat.js'
import { bytesOf, fileSha, sha256, shareFile, waitFor } from './helpers/net.js'

const helper = (name: string) => fileURLToPath(new URL(`./helpers/${name}`, import.meta.url))

/** Spawns `node SCRIPT ARGS` in `host`, returns its stdout lines as they come; killed by the teardown. */
function spawnScript(t: ExecutionContext, host: Host, script: string, args: string[]): string[] {
  const child = host.spawn(process.execPath, [helper(script), ...args])
  t.teardown(() => void child.kill('SIGKILL'))
  const lines: string[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(l))
  return lines
}

async function rssKiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN)
}

natTest(
  'nat attack: reservations past the per-address limit are refused and a dial-back reaches only the requester’s own IP; honest peers behind other NATs still reserve, find and download',
  async (t) => {
    const { pub, lans } = await natNetwork(t, 2, [
      { mode: 'endpoint-independent', hosts: 1 },
      { mode: 'endpoint-independent', hosts: 1 },
      { mode: 'endpoint-independent', hosts: 1 },
    ])
    const [relayHost, thirdHost] = pub as [Host, Host]
    const [attackerHost, providerHost, getterHost] = lans.map((l) => l.hosts[0] as Host) as [Host, Host, Host]
    const relay = await startNatNode(t, relayHost, {
      overlay: 'flooding',
      config: natConfig('flooding', {
        service: { listen: `tcp://${relayHost.address}:${RELAY_PORT}`, maxReservationsPerAddress: 2 },
      }),
    })
    const rssBefore = await rssKiB(relay.child.pid)
    // A third party on the public segment, counting every connection it receives.
    const third = spawnScript(t, thirdHost, 'counting-server.js', [thirdHost.address, '4001'])
    await waitFor('the third party listening', async () => third.includes('listening'), 10_000, 50)
    // The attacker behind NAT 1: ten reservations, each a fresh identity, then a dial-back of port 4001.
    const out = spawnScript(t, attackerHost, 'relay-attacker.js', [
      relayHost.address,
      String(RELAY_PORT),
      '10',
      '4001',
    ])
    const report = await waitFor('the attacker’s report', async () => out[0], 30_000, 100)
    const { reserved, refused, dialback } = JSON.parse(report) as {
      reserved: number
      refused: number
      dialback: { ip: string; ok: number[]; failed: number[] }
    }
    t.log(
      `attacker: ${reserved} reservations held, ${refused} refused; dial-back ${JSON.stringify(dialback)}`,
    )
    t.is(reserved, 2, 'the attacker holds nat.service.maxReservationsPerAddress reservations at most')
    t.is(refused, 8)
    t.is(
      dialback.ip,
      lans[0]?.publicAddress ?? 'no lan',
      'the relay dialed the IP the request came from: the attacker’s NAT',
    )
    t.deepEqual(dialback.ok, [])
    t.false(
      third.some((l) => l.startsWith('connection')),
      'nothing reached the third party (its address was never the relay’s to dial)',
    )

    // Honest peers behind two other NATs reserve, find each other's file and download it.
    const relays = [`tcp://${relayHost.address}:${RELAY_PORT}`]
    const file = bytesOf(1024 * 1024, 5)
    const [provider, getter] = await Promise.all([
      startNatNode(t, providerHost, {
        overlay: 'flooding',
        bootstrap: [relay.address],
        share: [await shareFile(providerHost, 'Honest.Field.Recordings.flac', file)],
        config: natConfig('flooding', { relays }),
      }),
      startNatNode(t, getterHost, {
        overlay: 'flooding',
        bootstrap: [relay.address],
        config: natConfig('flooding', { relays }),
      }),
    ])
    t.true(
      provider.info.listen.every((a) => a.startsWith('relay://')),
      'the honest provider got its reservation',
    )
    const paths = pathsOf(getter)
    const hit = await waitFor(
      'the honest file',
      async () =>
        (await getter.searchApi('honest field recordings', 1500)).hits.find((h) =>
          h.providers.some((p) => p.id === provider.id),
        ),
      30_000,
      300,
    )
    const result = await getter.get(hit.hash, join(getterHost.dir, 'honest.out'), 20_000)
    t.true(result.verified)
    t.is(await fileSha(join(getterHost.dir, 'honest.out')), sha256(file))
    t.log(
      `honest download: ${result.elapsedMs} ms over ${paths
        .filter((p) => p.peer === provider.id)
        .map((p) => p.path)
        .join(', ')}`,
    )
    const rssAfter = await rssKiB(relay.child.pid)
    t.log(`relay RSS ${Math.round(rssBefore / 1024)} → ${Math.round(rssAfter / 1024)} MiB`)
    t.true(rssAfter - rssBefore < 64 * 1024, 'the relay grew by less than 64 MiB')
  },
)
