import { createHook } from 'node:async_hooks'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestClock } from '@peerkit/compliance'
import { hashFile } from '@peerkit/content'
import {
  AbortError,
  type ContentHash,
  type Network,
  type PeerRef,
  PeerUnreachableError,
  SeededRandom,
} from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import {
  ChunkDownload,
  ChunkServer,
  parseTransferOptions,
  type TransferRequest,
  type TransferResponse,
} from '../../src/index.js'
import { bytesOf } from './bytes.js'
import { tempDir } from './peers.js'

/** Answers a provider's requests (a ChunkServer's, or a ChunkTransfer's handler). */
export type Answer = (req: TransferRequest, from: string) => Promise<TransferResponse>

/**
 * A stand-in for the downloader's Network on a virtual clock: providers are
 * in-process answers, reachable only while listed in `present`; a request to
 * one that is not answers PeerUnreachableError, as a departed peer does.
 */
export class VirtualNet {
  readonly present = new Set<string>()
  readonly answers = new Map<string, Answer>()
  /** Chunk requests sent, by provider. */
  readonly asked = new Map<string, number>()
  /** Virtual times chunk requests were sent at (with a clock), and their answers arrived at. */
  readonly sentAt: number[] = []
  readonly answeredAt: number[] = []

  constructor(private readonly clock?: { now(): number }) {}

  network(self = 'downloader'): Network {
    const net = {
      request: (async (ref: PeerRef, _protocol: unknown, body: unknown, opts?: { signal?: AbortSignal }) => {
        const req = body as TransferRequest
        if (req.op === 'chunk') {
          this.asked.set(ref.id, (this.asked.get(ref.id) ?? 0) + 1)
          if (this.clock) this.sentAt.push(this.clock.now())
        }
        const answer = this.answers.get(ref.id)
        if (!answer || !this.present.has(ref.id)) throw new PeerUnreachableError(`${ref.id} is gone`)
        const signal = opts?.signal
        if (signal?.aborted) throw new AbortError('aborted')
        return await new Promise<TransferResponse>((resolve, reject) => {
          const onAbort = () => reject(new AbortError('aborted'))
          signal?.addEventListener('abort', onAbort, { once: true })
          answer(req, self)
            .then((res) => {
              if (res.op === 'chunk' && this.clock) this.answeredAt.push(this.clock.now())
              resolve(res)
            }, reject)
            .finally(() => signal?.removeEventListener('abort', onAbort))
        })
      }) as Network['request'],
      learn() {},
      async connect() {},
    }
    return net as unknown as Network
  }

  /** A provider answering from `server`. */
  provide(id: string, server: ChunkServer): PeerRef {
    this.answers.set(id, (req) => server.handle(req))
    this.present.add(id)
    return { id, addresses: [] }
  }
}

export interface SharedBytes {
  dir: string
  bytes: Uint8Array
  hash: ContentHash
  size: number
  server: ChunkServer
}

/** `size` seeded bytes written to a temp folder and shared by a ChunkServer. */
export async function sharedBytes(t: ExecutionContext, size: number, seed = 3): Promise<SharedBytes> {
  const dir = await tempDir(t)
  const bytes = bytesOf(size, seed)
  const path = join(dir, 'source.bin')
  await writeFile(path, bytes)
  const server = new ChunkServer()
  t.teardown(() => server.close())
  const file = server.add(await hashFile(path))
  return { dir, bytes, hash: file.hash, size, server }
}

/** A ChunkDownload on `clock` through `net`, with transfer options `options`. */
export function virtualDownload(
  clock: TestClock,
  net: VirtualNet,
  hash: ContentHash,
  to: string,
  providers: PeerRef[] | (() => PeerRef[]),
  options: Record<string, unknown> = {},
): ChunkDownload {
  const find = typeof providers === 'function' ? providers : () => providers
  return new ChunkDownload(
    hash,
    { to, providers: find(), findProviders: () => find() },
    {
      network: net.network(),
      clock,
      random: new SeededRandom(1),
      self: 'downloader',
      options: parseTransferOptions({ progressInterval: 10, ...options }),
    },
  )
}

/**
 * File-system requests in flight in this thread (reads, writes, fsyncs,
 * renames: node's FSREQ resources, counted from creation to callback). The
 * test's virtual clock waits for them before it moves: on a loaded machine a
 * disk write can take longer than a thousand virtual steps, and a clock that
 * ran on meanwhile would fire request and rest timers early.
 */
const fsInFlight = new Set<number>()
createHook({
  init(id, type) {
    if (type.startsWith('FSREQ')) fsInFlight.add(id)
  },
  after(id) {
    fsInFlight.delete(id)
  },
  destroy(id) {
    fsInFlight.delete(id)
  },
}).enable()

/**
 * Resolves once no file-system request is in flight or `done()` holds, or
 * after `ms` real ms (then the clock moves anyway).
 */
async function fsIdle(ms: number, done: () => boolean): Promise<void> {
  const end = Date.now() + ms
  while (fsInFlight.size > 0 && !done() && Date.now() < end) await new Promise((r) => setTimeout(r, 1))
}

/**
 * Drives the clock in `step` ms steps until `done()` holds or `limit`
 * virtual ms pass; returns the virtual ms it took (or undefined). Disk writes
 * and hashing are real work: before each step the clock waits until no
 * file-system request is in flight (at most 10 real seconds) and yields to
 * the event loop, so virtual time does not run ahead of the disk.
 */
export async function driveUntil(
  clock: TestClock,
  done: () => boolean,
  limit: number,
  step = 10,
): Promise<number | undefined> {
  const start = clock.now()
  for (;;) {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
    await fsIdle(10_000, done)
    if (done()) return clock.now() - start
    if (clock.now() - start >= limit) return undefined
    await clock.advance(step)
  }
}

export { TestClock }
