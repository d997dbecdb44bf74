import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '@peerkit/index-memory'
import '@peerkit/overlay-flooding'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { type ContentHash, createPeer, type Peer } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { defaultPeerkitBin, type Host, PeerProcess } from '../../src/index.js'

/** The long variants of the attacks (`PEERKIT_LONG_ATTACKS=1`): the figures of the issue, minutes not seconds. */
export const LONG = process.env.PEERKIT_LONG_ATTACKS === '1'

/** A folder removed when the test ends. */
export async function scratch(t: ExecutionContext, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `peerkit-${name}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A real `peerkit node` (flooding, tcp on 127.0.0.1, no namespace) sharing one
 * file of `fileSize` random bytes, started the way the hosts harness starts its
 * nodes (`PeerProcess` reads its `listen` lines and waits for `ready`), and
 * killed when the test ends.
 */
export async function victimNode(
  t: ExecutionContext,
  options: { fileSize?: number; config?: object } = {},
): Promise<{ proc: PeerProcess; fileName: string }> {
  const dir = await scratch(t, 'victim')
  const share = join(dir, 'share')
  await mkdir(share)
  const fileName = 'attack-target-file.bin'
  await writeFile(join(share, fileName), randomBytes(options.fileSize ?? 8 * 1024 * 1024))
  const args = [
    defaultPeerkitBin(),
    'node',
    '--overlay',
    'flooding',
    '--listen',
    'tcp://127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--data',
    join(dir, 'data'),
    '--share',
    share,
    '--log-level',
    'warn',
  ]
  if (options.config) {
    const path = join(dir, 'config.json')
    await writeFile(path, JSON.stringify(options.config))
    args.push('--config', path)
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  // On loopback there is no host namespace: the process is named 'loopback' in PeerProcess's messages.
  const loopback = { name: 'loopback' } as Host
  const proc = await PeerProcess.started(loopback, child, 30_000)
  return { proc, fileName }
}

/** Resident memory of a process, in bytes (VmRSS in /proc/PID/status). */
export async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb) * 1024
}

/** Samples a process's RSS every `ms` until stopped; `peak` is the highest seen. */
export function watchRss(pid: number, ms = 25): { readonly peak: number; stop(): void } {
  let peak = 0
  const timer = setInterval(() => {
    rss(pid).then(
      (v) => {
        peak = Math.max(peak, v)
      },
      () => clearInterval(timer), // the process is gone: nothing more to sample
    )
  }, ms)
  return {
    get peak() {
      return peak
    },
    stop: () => clearInterval(timer),
  }
}

/** An honest in-process peer (flooding over tcp) joined through `bootstrap`, stopped when the test ends. */
export async function honestPeer(t: ExecutionContext, bootstrap: string): Promise<Peer> {
  const peer = await createPeer({
    overlay: 'flooding',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    bootstrap: [bootstrap],
  })
  t.teardown(() => peer.stop())
  await peer.start()
  return peer
}

/** The honest peer finds `name` through the overlay (bounded) and returns its hash. */
export async function find(peer: Peer, name: string, timeout = 10_000): Promise<ContentHash> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    for await (const hit of peer.search(name, { timeout: 1000 })) if (hit.name === name) return hit.hash
  }
  throw new Error(`no hit for ${name} within ${timeout} ms`)
}

/**
 * The honest peer downloads `hash` from the victim alone (bounded) and returns
 * the bytes it wrote, read back from disk.
 */
export async function downloadFrom(
  t: ExecutionContext,
  peer: Peer,
  victim: PeerProcess,
  hash: ContentHash,
): Promise<number> {
  const out = join(await scratch(t, 'honest'), 'copy.bin')
  const download = peer.download(hash, {
    to: out,
    providers: [{ id: victim.id, addresses: [victim.address] }],
  })
  await within(download.done, 'the honest download', 60_000)
  return (await readFile(out)).length
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}
