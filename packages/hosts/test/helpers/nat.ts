import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test, { type ExecutionContext } from 'ava'
import { run } from '../../src/command.js'
import { type GetJson, Host, HostNetwork, PeerProcess } from '../../src/index.js'
import { capability, FAST, fileSha, waitFor } from './net.js'

/** How a router maps ports: plain masquerade keeps the source port where it can (endpoint-independent); `--random-fully` gives every connection a random one (symmetric-like). */
export type NatMode = 'endpoint-independent' | 'symmetric'

/** Whether iptables is here too (the routers' NAT), and why not. Synchronous: ava wants tests declared at once. */
export const natCapability: { ok: boolean; reason: string } = (() => {
  if (!capability.ok) return capability
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore', timeout: 5000 })
    return { ok: true, reason: '' }
  } catch {
    return { ok: false, reason: 'iptables is not installed (the NAT routers are iptables masquerade rules)' }
  }
})()

/** A serial test that needs namespaces and iptables; skipped, with the reason, where they are missing. */
export function natTest(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
  if (natCapability.ok) test.serial(title, fn)
  else test.skip(`${title} — skipped: ${natCapability.reason}`, fn)
}

/** A private LAN behind a router namespace: `wan` on the public bridge, `lan` a bridge of its own. */
export interface Lan {
  router: Host
  mode: NatMode
  /** The router's public (WAN) address. */
  publicAddress: string
  hosts: Host[]
}

/**
 * The NAT test bed: a HostNetwork is the public segment (10.77.0.0/24: the
 * relay and bootstrap hosts, reachable peers); each LAN is 192.168.N.0/24 behind
 * a router namespace that forwards, masquerades on its WAN side and drops what
 * nobody inside asked for (as home routers do: no RST, so a hole punch's
 * early SYN is dropped, not refused). Everything lives in the network's own
 * namespaces and is deleted by `net.destroy()` (the test's teardown).
 */
export async function natNetwork(
  t: ExecutionContext,
  publicHosts: number,
  lans: {
    mode: NatMode
    hosts: number /** Run a NAT-PMP gateway on the router. */
    portMapping?: boolean
  }[],
): Promise<{ net: HostNetwork; pub: Host[]; lans: Lan[] }> {
  const net = await HostNetwork.create()
  t.teardown(() => net.destroy())
  const pub = await net.addHosts(publicHosts)
  const timeout = net.options.commandTimeout
  const ip = (ns: string, args: string[]) => run('ip', ['netns', 'exec', ns, 'ip', ...args], timeout)
  const sh = (ns: string, file: string, args: string[]) =>
    run('ip', ['netns', 'exec', ns, file, ...args], timeout)
  const out: Lan[] = []
  for (const [i, spec] of lans.entries()) {
    const n = i + 1
    const wan = net.allocateAddress()
    const routerNs = `${net.options.prefix}-r${n}`
    const dir = join(net.dir, `r${n}`)
    await mkdir(dir, { recursive: true })
    const router = new Host(net, `r${n}`, routerNs, wan, dir)
    net.hosts.push(router)
    await run('ip', ['netns', 'add', routerNs], timeout)
    await ip(routerNs, ['link', 'set', 'lo', 'up'])
    await ip(net.bridgeNs, [
      'link',
      'add',
      `vr${n}`,
      'type',
      'veth',
      'peer',
      'name',
      'wan',
      'netns',
      routerNs,
    ])
    await ip(net.bridgeNs, ['link', 'set', `vr${n}`, 'master', 'br0', 'up'])
    await ip(routerNs, ['addr', 'add', `${wan}/24`, 'dev', 'wan'])
    await ip(routerNs, ['link', 'set', 'wan', 'up'])
    await ip(routerNs, ['link', 'add', 'lan', 'type', 'bridge'])
    await ip(routerNs, ['addr', 'add', `192.168.${n}.1/24`, 'dev', 'lan'])
    await ip(routerNs, ['link', 'set', 'lan', 'up'])
    await sh(routerNs, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    const ipt = (args: string[]) => sh(routerNs, 'iptables', args)
    await ipt([
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      'wan',
      '-j',
      'MASQUERADE',
      ...(spec.mode === 'symmetric' ? ['--random-fully'] : []),
    ])
    // What the router forwards on request (a port mapping) passes, as on a home router.
    await ipt(['-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'])
    for (const chain of ['INPUT', 'FORWARD']) {
      await ipt([
        '-A',
        chain,
        '-i',
        'wan',
        '-m',
        'conntrack',
        '--ctstate',
        'ESTABLISHED,RELATED',
        '-j',
        'ACCEPT',
      ])
      await ipt(['-A', chain, '-i', 'wan', '-j', 'DROP'])
    }
    const hosts: Host[] = []
    for (let j = 0; j < spec.hosts; j++) {
      const name = `l${n}h${j + 1}`
      const ns = `${net.options.prefix}-${name}`
      const address = `192.168.${n}.${11 + j}`
      const hdir = join(net.dir, name)
      await mkdir(hdir, { recursive: true })
      const host = new Host(net, name, ns, address, hdir)
      net.hosts.push(host)
      await run('ip', ['netns', 'add', ns], timeout)
      await ip(ns, ['link', 'set', 'lo', 'up'])
      await ip(routerNs, ['link', 'add', `p${j + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      await ip(routerNs, ['link', 'set', `p${j + 1}`, 'master', 'lan', 'up'])
      await ip(ns, ['addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await ip(ns, ['link', 'set', 'eth0', 'up'])
      await ip(ns, ['route', 'add', 'default', 'via', `192.168.${n}.1`])
      hosts.push(host)
    }
    if (spec.portMapping) await startGatewayDaemon(t, router, n)
    out.push({ router, mode: spec.mode, publicAddress: wan, hosts })
  }
  return { net, pub, lans: out }
}

export type Overlay = 'central' | 'flooding' | 'supernode' | 'chord'

/** The relay service's port on a relay host (the peer itself listens on 4001). */
export const RELAY_PORT = 4002

/** The `--config` of a peer on the `nat` transport: the fast timers, and `nat` options. */
export function natConfig(overlay: Overlay, nat: object): object {
  return {
    transport: 'nat',
    log: 'warn,peerkit:nat=info',
    options: { [overlay]: FAST[overlay], default: FAST.transfer, nat: { reserveTimeout: 6000, ...nat } },
    // A relayed dial coordinates a push or a hole punch before it resolves: seconds, not 1.5.
    network: { ...FAST.network, dialTimeout: 15_000 },
  }
}

/** One connection a peer's `peerkit:nat` log reported. */
export interface PathLine {
  peer: string
  path: string
  direction: string
}

/** Collects the `peerkit:nat connection …` lines a process writes from now on. */
export function pathsOf(p: PeerProcess): PathLine[] {
  const lines: PathLine[] = []
  const take = (text: string) => {
    for (const line of text.split('\n')) {
      if (!line.includes('peerkit:nat connection')) continue
      const field = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1] ?? ''
      lines.push({ peer: field('peer'), path: field('path'), direction: field('direction') })
    }
  }
  take(p.log)
  p.child.stderr?.on('data', (d: Buffer) => take(d.toString()))
  return lines
}

let configs = 0

/** `peerkit node …` on `host` (what `host.startNode` runs, with `spec.args` added). Killed by the teardown. */
export async function startNatNode(
  t: ExecutionContext,
  host: Host,
  spec: {
    overlay: Overlay
    bootstrap?: string[]
    share?: string[]
    config: object /** More flags. */
    args?: string[]
  },
): Promise<PeerProcess> {
  const data = join(host.dir, 'data')
  const config = join(host.dir, `nat-config-${++configs}.json`)
  await writeFile(config, JSON.stringify(spec.config))
  const args = [
    ...['node', '--overlay', spec.overlay],
    ...['--listen', `tcp://${host.address}:4001`, '--api', '127.0.0.1:0', '--data', data],
    ...['--log-level', 'info', '--config', config],
  ]
  if (spec.bootstrap?.length) args.push('--bootstrap', ...spec.bootstrap)
  if (spec.share?.length) args.push('--share', ...spec.share)
  if (spec.args) args.push(...spec.args)
  const { nodePath, peerkitBin } = host.network.options
  const child = host.spawn(nodePath, [peerkitBin, ...args])
  t.teardown(() => void child.kill('SIGKILL'))
  return PeerProcess.started(host, child, 60_000, data)
}

/**
 * Searches from `getter` until `provider`'s file shows, downloads it and checks it (verified, the bytes'
 * sha256, some from `provider`); returns the result and the last connection the getter's log reported to it.
 */
export async function downloadFrom(
  t: ExecutionContext,
  getter: PeerProcess,
  paths: PathLine[],
  provider: PeerProcess,
  query: string,
  sha: string,
): Promise<{ result: GetJson; last: PathLine | undefined }> {
  const hit = await waitFor(
    `${getter.host.name} finds '${query}' at ${provider.host.name}`,
    async () =>
      (await getter.searchApi(query, 1500)).hits.find((h) => h.providers.some((p) => p.id === provider.id)),
    30_000,
    300,
  )
  const out = join(getter.host.dir, `${query.replace(/\s+/g, '-')}.out`)
  const result = await getter.get(hit.hash, out, 30_000)
  t.true(result.verified)
  t.is(await fileSha(out), sha)
  t.true(
    (result.sources.find((s) => s.id === provider.id)?.bytes ?? 0) > 0,
    'the bytes came from the provider',
  )
  const used = paths.filter((p) => p.peer === provider.id)
  return { result, last: used[used.length - 1] }
}

/**
 * A NAT-PMP gateway on router `n` (test/helpers/nat-pmp-gateway.ts), serving its LAN: it maps a port for
 * the host that asks with a real DNAT rule. Killed by the teardown.
 */
async function startGatewayDaemon(t: ExecutionContext, router: Host, n: number): Promise<void> {
  const script = fileURLToPath(new URL('./nat-pmp-gateway.js', import.meta.url))
  const child = router.spawn(process.execPath, [script, `192.168.${n}.1`, router.address])
  t.teardown(() => void child.kill('SIGKILL'))
  let log = ''
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString()
  })
  await waitFor(
    `the NAT-PMP gateway on ${router.name}`,
    async () => log.includes('listening'),
    10_000,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; its output: ${log}`)
  })
}
