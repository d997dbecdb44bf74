import { type CreatePeerComponents, createPeer, type Peer } from '@peerkit/core'
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
  const peer = await createPeer(options.config, components)
  peer.overlay.on('neighbor:add', (p) =>
    logger.debug('neighbor added', { peer: p.id, addresses: p.addresses }),
  )
  peer.overlay.on('neighbor:remove', (p) => logger.debug('neighbor removed', { peer: p.id }))
  peer.overlay.on('role', (role) => logger.info('role changed', { role }))
  try {
    await peer.start()
    const shares = new ShareRegistry(peer)
    logger.info('peer started', { id: peer.id, overlay: peer.overlay.name, role: peer.overlay.role() })
    for (const path of options.share) {
      const records = await peer.share(path).catch((err: Error) => {
        throw new CommandError(
          `cannot share ${path}: ${err.message} — check that --share names a readable folder`,
          {
            cause: err,
          },
        )
      })
      shares.record(path, records)
      logger.info('shared', { path, files: records.length })
    }
    // A fresh secret each run, as bitcoind's .cookie: written once the real port is known.
    const token = newCookie()
    const web = await loadWebAssets()
    const api = new ApiServer(peer, { ...options.api, token, logger, shares, web })
    const apiUrl = await api.listen().catch((err: NodeJS.ErrnoException) => {
      const where = formatHostPort(options.api)
      throw new CommandError(
        err.code === 'EADDRINUSE'
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
        await api.close()
        await removeCookie(cookieFile, token)
        await peer.stop()
      },
    }
  } catch (err) {
    await peer.stop().catch(() => {})
    throw err
  }
}
