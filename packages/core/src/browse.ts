import { z } from 'zod'
import type { Clock } from './clock.js'
import type { Index } from './content-index.js'
import { PeerUnreachableError, UnsupportedProtocolError } from './errors.js'
import type { Logger } from './logger.js'
import type { Network } from './network.js'
import type { PeerId } from './peer-id.js'
import type { ContentHash, FileRecord, PeerRef } from './records.js'
import type { AbortOptions } from './transport.js'
import { defineProtocol } from './wire/protocol.js'

/** Files one browse answer lists unless the asker wants fewer. @default 100 */
export const DEFAULT_BROWSE_PAGE = 100
/** The most files `browse.maxPerPage` may allow in one answer. */
export const MAX_BROWSE_PAGE = 1000
/** Milliseconds a sorted list of the shares serves browse requests before it is read again. */
const LISTING_TTL = 2000
const MAX_CURSOR = 2048

/** Options of browsing this peer's shares (`config.browse`). */
export interface BrowseConfig {
  /** Whether other peers may list the files this peer shares (`peerkit/browse/1`). @default true */
  allow?: boolean
  /** Files in one answer at most, whatever the asker asks for (1 … 1000). @default 100 */
  maxPerPage?: number
}

export const browseConfigSchema = z
  .object({
    allow: z.boolean().default(true),
    maxPerPage: z.number().int().min(1).max(MAX_BROWSE_PAGE).default(DEFAULT_BROWSE_PAGE),
  })
  .strict()

export const DEFAULT_BROWSE_CONFIG: Readonly<Required<BrowseConfig>> = Object.freeze({
  allow: true,
  maxPerPage: DEFAULT_BROWSE_PAGE,
})

/** One shared file as a browse answer lists it. */
export interface BrowseFile {
  hash: ContentHash
  name: string
  size: number
  chunkSize: number
}

/** One page of a peer's shared files, in the order of their names. */
export interface BrowsePage {
  /** The peer that answered. */
  peer: PeerRef
  files: BrowseFile[]
  /** Files the peer shares in all. */
  total: number
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string
}

export interface BrowseOptions extends AbortOptions {
  /** The `next` of the page before; absent for the first page. */
  after?: string
  /** Files wanted in this page (the peer gives at most its `browse.maxPerPage`). @default 100 */
  limit?: number
  /** Milliseconds to wait for the answer. @default network.requestTimeout */
  timeout?: number
}

const fileSchema = z.object({
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().max(4096),
  size: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
})

/** `peerkit/browse/1`: a page of the files a peer shares, by name, after a cursor. */
export const BROWSE_PROTOCOL = defineProtocol(
  'peerkit/browse/1',
  z
    .object({
      after: z.string().max(MAX_CURSOR).optional(),
      limit: z.number().int().min(1).max(MAX_BROWSE_PAGE),
    })
    .strict(),
  z.object({
    files: z.array(fileSchema).max(MAX_BROWSE_PAGE),
    total: z.number().int().nonnegative(),
    next: z.string().max(MAX_CURSOR).optional(),
  }),
)

/** The cursor of a file: its name and hash, which sort the listing. */
function cursorOf(f: BrowseFile): string {
  return `${f.name}\u0000${f.hash}`
}

/**
 * Answers `peerkit/browse/1` from the peer's shares when `browse.allow`: a
 * page of at most `maxPerPage` files after the asker's cursor, sorted by name
 * then hash, so pages stay in order while the shares change. The sorted
 * listing is made at most once per 2 s, so asking cannot cost more than one
 * sort of the shares per 2 s. When browsing is not allowed the protocol is
 * not handled, and the asker gets `UnsupportedProtocolError`.
 */
export class BrowseServer {
  /** The sorted listing and when it was started (requests that come while it is made wait for the same one). */
  private listing: { files: Promise<BrowseFile[]>; at: number } | undefined

  constructor(
    private readonly network: Network,
    private readonly shares: Index,
    private readonly clock: Clock,
    private readonly config: Readonly<Required<BrowseConfig>>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.config.allow) return
    this.network.handle(BROWSE_PROTOCOL, async (req, ctx) => {
      const page = await this.page(req.after, req.limit)
      this.log.debug('browsed', { peer: ctx.peer.id, files: page.files.length })
      return page
    })
  }

  stop(): void {
    this.listing = undefined
    if (this.config.allow) this.network.unhandle(BROWSE_PROTOCOL)
  }

  /** A page of the shares after `after`, of at most `limit` (and `maxPerPage`) files. */
  async page(after: string | undefined, limit: number): Promise<Omit<BrowsePage, 'peer'>> {
    const files = await this.sorted()
    let lo = 0
    if (after !== undefined) {
      let hi = files.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (cursorOf(files[mid] as BrowseFile) <= after) lo = mid + 1
        else hi = mid
      }
    }
    const n = Math.min(limit, this.config.maxPerPage)
    const out = files.slice(lo, lo + n)
    const last = out[out.length - 1]
    return lo + n < files.length && last
      ? { files: out, total: files.length, next: cursorOf(last) }
      : { files: out, total: files.length }
  }

  private sorted(): Promise<BrowseFile[]> {
    const now = this.clock.now()
    if (this.listing && now - this.listing.at < LISTING_TTL) return this.listing.files
    const files = this.list()
    this.listing = { files, at: now }
    // A failed walk is not kept: the next request walks again (the asker got the error).
    files.catch(() => {
      if (this.listing?.files === files) this.listing = undefined
    })
    return files
  }

  private async list(): Promise<BrowseFile[]> {
    const byHash = new Map<ContentHash, FileRecord>()
    for await (const r of this.shares.records()) if (!byHash.has(r.hash)) byHash.set(r.hash, r)
    const files = [...byHash.values()].map((r) => ({
      hash: r.hash,
      name: r.name,
      size: r.size,
      chunkSize: r.chunkSize,
    }))
    files.sort((a, b) => {
      const x = cursorOf(a)
      const y = cursorOf(b)
      return x < y ? -1 : x > y ? 1 : 0
    })
    return files
  }
}

/**
 * Asks one peer for a page of the files it shares. `target` is a PeerRef, a
 * PeerId the network knows addresses of, or an address URL (`tcp://…`).
 * Throws `UnsupportedProtocolError` when the peer does not allow browsing,
 * `PeerUnreachableError` when it cannot be reached.
 */
export async function browsePeer(
  network: Network,
  target: PeerRef | PeerId | string,
  options: BrowseOptions = {},
): Promise<BrowsePage> {
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? DEFAULT_BROWSE_PAGE)), MAX_BROWSE_PAGE)
  const ref =
    typeof target === 'string'
      ? target.includes('://')
        ? await network.dialAddress(target, { signal: options.signal })
        : { id: target, addresses: network.addressesOf(target) }
      : target
  if (
    typeof target === 'string' &&
    !target.includes('://') &&
    ref.addresses.length === 0 &&
    !network.isConnected(ref.id)
  ) {
    throw new PeerUnreachableError(
      `no address is known for peer ${ref.id}: browse it by an address (tcp://HOST:PORT), or search first so its address is learned`,
    )
  }
  const body = options.after === undefined ? { limit } : { after: options.after, limit }
  try {
    const page = await network.request(ref, BROWSE_PROTOCOL, body, {
      signal: options.signal,
      timeout: options.timeout,
    })
    return page.next === undefined
      ? { peer: ref, files: page.files, total: page.total }
      : { peer: ref, files: page.files, total: page.total, next: page.next }
  } catch (err) {
    if ((err as Error).name === 'UnsupportedProtocolError')
      throw new UnsupportedProtocolError(
        `peer ${ref.id} does not let others browse its files (its browse.allow is false, or it runs a peerkit without peerkit/browse/1)`,
        { cause: err },
      )
    throw err
  }
}
