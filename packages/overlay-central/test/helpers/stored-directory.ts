import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import {
  type CentralOptions,
  createDirectoryServer,
  type DirectoryServerConfig,
  type DirectoryServerHandle,
} from '../../src/index.js'
import { createNode, type Node, uniqueName } from './net.js'

/**
 * Directories on a store (LMDB, PostgreSQL) and their peers, over one memory
 * hub, on the real clock unless the test registers a `CLOCK` in `container`
 * first: the store answers in real time, so a self-running virtual clock
 * would run ahead while a write or a query is out, but a `TestClock` the test
 * drives (moving it on only once what the store does has been waited for)
 * fits. Its tests wait with net.ts's bounded `until`.
 */
export interface StoredDirectories {
  container: DependencyContainer
  /** Starts a directory at `address` (the config from `configure`); stopped at teardown. */
  start(address: string, seed?: number): Promise<DirectoryServerHandle>
  /** Adds and starts a central peer (bootstrapping from `bootstrap`, if any); stopped at teardown. */
  add(central?: CentralOptions, bootstrap?: string[]): Promise<Node>
}

/** `configure(seed)`: a directory's config, less its transport and listen address. */
export function storedDirectories(
  t: ExecutionContext,
  configure: (seed: number) => Omit<DirectoryServerConfig, 'transport' | 'listen'>,
): StoredDirectories {
  const container = memoryContainer(new MemoryNetwork())
  const nodes: Node[] = []
  t.teardown(() => Promise.allSettled(nodes.map((n) => n.stop())))
  return {
    container,
    async start(address, seed = 1) {
      const d = await createDirectoryServer(
        { transport: 'memory', listen: [address], ...configure(seed) },
        { container },
      )
      t.teardown(() => d.stop())
      await d.start()
      return d
    },
    async add(central = {}, bootstrap = []) {
      const node = createNode(
        {
          overlay: 'central',
          transport: 'memory',
          listen: [`memory://${uniqueName('peer')}`],
          bootstrap,
          options: { central: { reconnectMin: 20, reconnectMax: 200, ...central } },
        },
        container,
      )
      nodes.push(node)
      await node.start()
      return node
    },
  }
}
