import { createTestnet, type TestnetConfig } from '@peerkit/compliance'
import { CLOCK } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { SupernodeOptions } from '../../src/index.js'
import { RunningClock } from './running-clock.js'

/**
 * `n` supernode peers over a memory hub of their own, on a virtual clock that
 * runs by itself (see RunningClock): nothing depends on the machine's speed.
 * `per(i)` gives peer i's supernode options over `options`.
 */
export async function virtualNet(
  t: Parameters<typeof createTestnet>[0],
  n: number,
  options: SupernodeOptions,
  per: (i: number) => SupernodeOptions = () => ({}),
  extra: Omit<TestnetConfig, 'overlay' | 'container'> = {},
) {
  const clock = new RunningClock()
  const hub = new MemoryNetwork()
  const container = memoryContainer(hub)
  container.register(CLOCK, { useValue: clock })
  t.teardown(() => clock.stop())
  const testnet = await createTestnet(t, n, {
    seed: 7,
    ...extra,
    overlay: 'supernode',
    container,
    configure: (i) => {
      const more = extra.configure?.(i) ?? {}
      const own = (more.options?.supernode ?? {}) as SupernodeOptions
      return { ...more, options: { ...more.options, supernode: { ...options, ...per(i), ...own } } }
    },
  })
  return { ...testnet, hub, clock, container }
}
