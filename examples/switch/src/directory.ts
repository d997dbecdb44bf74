import { createDirectoryServer, type DirectoryServerHandle } from '@peerkit/overlay-central'
import type { DependencyContainer } from 'tsyringe'
import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import '@peerkit/transport-tcp'

export interface DirectoryOptions {
  /** @default 'tcp' */
  transport?: 'tcp' | 'memory'
  listen: string[]
  /** Keeps the server's PeerId across restarts. */
  dataDir?: string
  container?: DependencyContainer
}

/** The third role of the central example: the directory server the peers log in to. */
export async function startDirectory(options: DirectoryOptions): Promise<DirectoryServerHandle> {
  const directory = await createDirectoryServer(
    { transport: options.transport ?? 'tcp', listen: options.listen, dataDir: options.dataDir },
    { container: options.container },
  )
  await directory.start()
  return directory
}
