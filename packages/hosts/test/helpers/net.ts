import { createHash } from 'node:crypto'
import { link, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import {
  type Host,
  HostNetwork,
  probeNamespaces,
  sweepNamespaces,
  sweepStaleNamespaces,
} from '../../src/index.js'

/** Probed once per test file: whether namespaces can be made here, and why not. */
export const capability = await probeNamespaces()

if (capability.ok) {
  await sweepStaleNamespaces()
  // Whatever a failed test left behind in this process is removed at the end.
  test.after.always('sweep this run’s namespaces', async () => {
    await sweepNamespaces()
  })
}

/**
 * A test that needs real hosts. Serial: each builds a network of 8+ processes,
 * and two at once on a 2-core machine would mostly measure the CPU scheduler.
 * Where namespaces cannot be made it is registered as skipped, with the reason
 * in its title.
 */
export function hostTest(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
  if (capability.ok) test.serial(title, fn)
  else test.skip(`${title} — skipped: ${capability.reason}`, fn)
}

/** `N` hosts, typed so that destructuring gives each a `Host`. */
export type Hosts<N extends number, R extends Host[] = []> = R['length'] extends N
  ? R
  : Hosts<N, [...R, Host]>

/** A network of `n` hosts, destroyed by the test's teardown (also when it fails). */
export async function network<N extends number>(
  t: ExecutionContext,
  n: N,
): Promise<{ net: HostNetwork; hosts: Hosts<N> }> {
  const net = await HostNetwork.create()
  t.teardown(() => net.destroy())
  const hosts = await net.addHosts(n)
  return { net, hosts: hosts as Hosts<N> }
}

/** `hosts[i]`, which must exist. */
export function host(hosts: Host[], i: number): Host {
  const h = hosts[i]
  if (!h) throw new RangeError(`no host ${i} (${hosts.length} hosts)`)
  return h
}

/**
 * Polls `fn` until it returns something other than `undefined`/`false`, or fails after `timeout` ms.
 * `fn` may `note` what it saw on each try: the timeout's message then says what was seen last
 * (and the last error a try threw), so a failure shows how far off the wait was.
 */
export async function waitFor<T>(
  what: string,
  fn: (note: (seen: string) => void) => Promise<T | undefined | false>,
  timeout: number,
  interval = 200,
): Promise<T> {
  const deadline = Date.now() + timeout
  let seen: string | undefined
  let error: unknown
  let failed = false
  const note = (s: string) => {
    seen = s
  }
  for (;;) {
    try {
      const v = await fn(note)
      if (v !== undefined && v !== false) return v
      failed = false
    } catch (err) {
      error = err
      failed = true
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}` +
          (seen === undefined ? '' : `; last seen: ${seen}`) +
          (error === undefined ? '' : `; ${failed ? 'the last' : 'an earlier'} try failed: ${error}`),
      )
    }
    await new Promise((r) => setTimeout(r, interval))
  }
}

/** Deterministic bytes (xorshift32 words), so a file's hash is the same on every run. */
export function bytesOf(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n)
  let x = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.writeUInt32LE(x >>> 0, i)
  }
  for (; i < n; i++) out[i] = i & 0xff
  return out
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Writes a file into `host`'s own share folder (created), and returns that folder. */
export async function shareFile(host: Host, name: string, bytes: Uint8Array): Promise<string> {
  const dir = join(host.dir, 'share')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, name), bytes)
  return dir
}

/** Hard-links one big file into several hosts' share folders (one copy on disk). */
export async function shareLinked(hosts: Host[], name: string, source: string): Promise<string[]> {
  const dirs: string[] = []
  for (const h of hosts) {
    const dir = join(h.dir, 'share')
    await mkdir(dir, { recursive: true })
    await link(source, join(dir, name))
    dirs.push(dir)
  }
  return dirs
}

export async function fileSha(path: string): Promise<string> {
  return sha256(await readFile(path))
}

/** Short timers so faults heal within seconds; every field is documented in that overlay's README. */
export const FAST = {
  central: { reconnectMin: 100, reconnectMax: 1000 },
  directory: { heartbeatInterval: 500, dropAfter: 2000 },
  flooding: {
    maintenanceInterval: 500,
    probeAfter: 1000,
    probeTimeout: 1000,
    ringTimeout: 100,
    ttl: 4,
    maxTtl: 4,
    ringHits: 3,
  },
  supernode: {
    heartbeatInterval: 300,
    failoverTimeout: 1000,
    electionDelay: 300,
    hopTimeout: 300,
    maintenanceInterval: 300,
    refreshInterval: 1000,
    leavesPerSupernode: 2,
    demoteAfter: 0,
  },
  chord: {
    stabilizeInterval: 200,
    fixFingersInterval: 100,
    checkPredecessorInterval: 300,
    rpcTimeout: 1000,
    // A record stored as a newcomer takes over its range shows up at the provider's next refresh.
    refreshInterval: 5000,
    recordTtl: 30_000,
  },
  transfer: { requestTimeout: 3000, progressInterval: 100 },
  network: { dialTimeout: 1500, requestTimeout: 3000 },
} as const

/** The `--config` of a node of `overlay` with the fast timers. */
export function fastConfig(
  overlay: 'central' | 'flooding' | 'supernode' | 'chord',
  extra: object = {},
): object {
  return {
    options: { [overlay]: { ...FAST[overlay], ...extra }, default: FAST.transfer },
    network: FAST.network,
  }
}
