import { createDirectoryServer } from '@peerkit/overlay-central'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import { cliLogger, type NodeOptions, type RunningNode, startNode } from '../../src/index.js'

let counter = 0

export interface InProcessNet {
  container: DependencyContainer
  /** Where peers join: the directory (central) or the first node. */
  bootstrap: string[]
  /** Starts a `peerkit node` in this process (API on 127.0.0.1:0) and stops it at teardown. */
  node(options: {
    share?: string[]
    dataDir?: string
    overlayOptions?: Record<string, unknown>
    /** What else `peerkit node` would take (shareHidden, shareDownloads, watch, shareSettleTime). */
    node?: Partial<NodeOptions>
  }): Promise<RunningNode>
}

/** Memory-transport peers with their HTTP APIs, as `peerkit node` runs them, all in this process. */
export async function inProcessNet(t: ExecutionContext, overlay: string): Promise<InProcessNet> {
  const container = memoryContainer(new MemoryNetwork())
  const prefix = `cli-${process.pid}-${++counter}`
  const bootstrap: string[] = []
  if (overlay === 'central') {
    const directory = await createDirectoryServer(
      { listen: [`memory://${prefix}-directory`], transport: 'memory' },
      { container },
    )
    await directory.start()
    t.teardown(() => directory.stop())
    bootstrap.push(...directory.addresses())
  }
  let n = 0
  return {
    container,
    bootstrap,
    async node(options) {
      const address = `memory://${prefix}-node-${++n}`
      const node = await startNode(
        {
          config: {
            overlay,
            transport: 'memory',
            listen: [address],
            bootstrap: [...bootstrap],
            dataDir: options.dataDir,
            options: options.overlayOptions ?? {},
          },
          api: { host: '127.0.0.1', port: 0 },
          share: options.share ?? [],
          logLevel: 'silent',
          shareSettleTime: 100,
          ...options.node,
        },
        cliLogger('silent', process.stderr),
        { container },
      )
      t.teardown(() => node.stop())
      if (overlay !== 'central' && bootstrap.length === 0) bootstrap.push(address)
      return node
    },
  }
}
