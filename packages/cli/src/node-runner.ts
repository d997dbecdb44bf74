import { join } from 'node:path'
import { type CreatePeerComponents, createPeer, LOGGER, type Peer } from '@peerkit/core'
import { container as rootContainer } from 'tsyringe'
import { ApiServer } from './api-server.js'
import { cookiePath, newCookie, removeCookie, writeCookie } from './cookie.js'
import { CommandError } from './errors.js'
import type { Logger } from './logger.js'
import { formatHostPort, type NodeOptions } from './options.js'
import { ShareRegistry } from './share-registry.js'
import { loadWebAssets } from './web-assets.js'

export interface RunningNode {
  peer: Peer
  api: ApiServer
  /** `http://HOST:PORT`, with the real port. */
  apiUrl: string
  /** The API's secret for this run: every request needs `Authorization: Bearer TOKEN`. */
  token: string
  /** The cookie file holding `token` (mode 0600), removed at stop. */
  cookieFile: string
  /** A one-time link that signs a browser in to the node's page (`api.loginLink()` makes more). */
  webUrl: string
  /** Stops the API, then the peer. */
  stop(): Promise<void>
}

/** Builds and starts the peer, shares the folders, then serves the API (so a script sees a ready node). */
export async function startNode(
  options: NodeOptions,
  logger: Logger,
  components: CreatePeerComponents = {},
): Promise<RunningNode> {
  // The peer's components log through the command's logger (its level and stderr sink), unless the caller gave one.
  const parent = (components.container ?? rootContainer).createChildContainer()
  if (!parent.isRegistered(LOGGER, true)) parent.register(LOGGER, { useValue: logger })
  const peer = await createPeer(options.config, { ...components, container: parent })
  peer.overlay.on('neighbor:add', (p) =>
    logger.debug('neighbor added', { peer: p.id, addresses: p.addresses }),
  )
  peer.overlay.on('neighbor:remove', (p) => logger.debug('neighbor removed', { peer: p.id }))
  peer.overlay.on('role', (role) => logger.info('role changed', { role }))
  let registry: ShareRegistry | undefined
  try {
    const dataDir = options.config.dataDir
    const shares = new ShareRegistry(peer, {
      hidden: options.shareHidden,
      watch: options.watch,
      settleTime: options.shareSettleTime,
      store: dataDir ? join(dataDir, SHARES_FILE) : undefined,
      logger,
    })
    registry = shares
    // Shared before the peer starts, so it serves and publishes them from its first moment: after a restart,
    // a peer that finds it again never hears "not shared here" for a file that is only being hashed again.
    for (const path of options.share) {
      logger.info('sharing', { path })
      const folder = await shares.add(path).catch((err: Error) => {
        throw new CommandError(
          `cannot share ${path}: ${err.message} — check that --share (or "shares" in the config file) names a readable folder`,
          { cause: err },
        )
      })
      logger.info('shared', { path, files: folder.files.length, skipped: folder.skippedCount })
    }
    // Folders added through the API in an earlier run (kept in DATA/shares.json): one gone since is logged, not fatal.
    const given = new Set(shares.list().map((f) => f.path))
    for (const saved of await shares.stored()) {
      if (given.has(saved.path)) continue
      try {
        const folder = await shares.add(saved.path, { download: saved.download })
        logger.info('shared', { path: saved.path, files: folder.files.length, saved: true })
      } catch (err) {
        logger.warn('a folder shared in an earlier run cannot be shared now; skipped', {
          path: saved.path,
          err,
        })
      }
    }
    await peer.start()
    logger.info('peer started', { id: peer.id, overlay: peer.overlay.name, role: peer.overlay.role() })
    // A fresh secret each run, as bitcoind's .cookie: written once the real port is known.
    const token = newCookie()
    const web = await loadWebAssets()
    const api = new ApiServer(peer, {
      ...options.api,
      token,
      logger,
      shares,
      web,
      shareDownloads: options.shareDownloads ?? true,
    })
    const apiUrl = await api.listen().catch((err: NodeJS.ErrnoException) => {
      const where = formatHostPort(options.api)
      const own = peer.addresses().some((a) => sameHostPort(a, options.api))
      throw new CommandError(
        own
          ? `--api ${where} is this peer's own listen address (the peer protocol, not HTTP) — give the API another port with --api HOST:PORT (port 0 picks a free one)`
          : err.code === 'EADDRINUSE'
            ? `the API address ${where} is in use — pick another with --api HOST:PORT (port 0 picks a free one)`
            : `cannot serve the API at ${where}: ${err.message}`,
        { cause: err },
      )
    })
    const cookieFile = cookiePath(options.config.dataDir, {
      host: options.api.host,
      port: Number(new URL(apiUrl).port),
    })
    try {
      await writeCookie(cookieFile, token)
    } catch (err) {
      await api.close()
      throw err
    }
    logger.info('api listening', { url: apiUrl, cookie: cookieFile })
    return {
      peer,
      api,
      apiUrl,
      token,
      cookieFile,
      webUrl: api.loginLink().url,
      async stop() {
        await shares.close()
        await api.close()
        await removeCookie(cookieFile, token)
        await peer.stop()
      },
    }
  } catch (err) {
    // The start failed: its error is what the caller needs; a failure to stop as well is logged.
    await registry?.close()
    await peer
      .stop()
      .catch((stopErr: unknown) => logger.warn('the peer did not stop cleanly', { err: stopErr }))
    throw err
  }
}

/** Where a node keeps the folders it shares, in its data folder. */
export const SHARES_FILE = 'shares.json'

/** True when address `a` (`tcp://HOST:PORT`) is at `api`'s port on the same host. */
function sameHostPort(a: string, api: { host: string; port: number }): boolean {
  try {
    const u = new URL(a)
    const host = u.hostname.replace(/^\[|\]$/g, '')
    return Number(u.port) === api.port && (host === api.host || host === '0.0.0.0' || api.host === '0.0.0.0')
  } catch {
    return false // not a URL with a host and port: not the API's address
  }
}
