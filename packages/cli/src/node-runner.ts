import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type CreatePeerComponents, createPeer, type Peer } from '@peerkit/core'
import { ApiServer } from './api-server.js'
import { CommandError } from './errors.js'
import type { Logger } from './logger.js'
import { formatHostPort, isLoopback, type NodeOptions } from './options.js'

/** The file in the data folder that holds the API token. */
export const TOKEN_FILE = 'api-token'

export interface RunningNode {
  peer: Peer
  api: ApiServer
  /** `http://HOST:PORT`, with the real port. */
  apiUrl: string
  /** Set when the API is off loopback and requires it. */
  token?: string
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
      logger.info('shared', { path, files: records.length })
    }
    const token = isLoopback(options.api.host)
      ? undefined
      : await loadOrCreateToken(options.config.dataDir ?? '')
    const api = new ApiServer(peer, { ...options.api, token, logger })
    const apiUrl = await api.listen().catch((err: NodeJS.ErrnoException) => {
      const where = formatHostPort(options.api)
      throw new CommandError(
        err.code === 'EADDRINUSE'
          ? `the API address ${where} is in use — pick another with --api HOST:PORT (port 0 picks a free one)`
          : `cannot serve the API at ${where}: ${err.message}`,
        { cause: err },
      )
    })
    logger.info('api listening', { url: apiUrl })
    return {
      peer,
      api,
      apiUrl,
      token,
      async stop() {
        await api.close()
        await peer.stop()
      },
    }
  } catch (err) {
    await peer.stop().catch(() => {})
    throw err
  }
}

/** Reads the API token from the data folder, creating a random one (mode 0600) the first time. */
export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const file = join(dataDir, TOKEN_FILE)
  try {
    const token = (await readFile(file, 'utf8')).trim()
    if (token) return token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const token = randomBytes(32).toString('base64url')
  await writeFile(file, `${token}\n`, { mode: 0o600 })
  return token
}
