import { run } from './command.js'
import { RUN_PREFIX } from './options.js'
import { removeNamespace } from './sweep.js'

/** Whether this machine lets the harness create namespaces, veth pairs and bridges; `reason` says why not. */
export interface Capability {
  ok: boolean
  reason: string
}

let probed: Promise<Capability> | undefined

/**
 * Tries, once per process, what the harness needs: root, `ip`, a namespace, a
 * bridge and a veth pair inside it. Everything made is removed again.
 */
export function probeNamespaces(): Promise<Capability> {
  probed ??= probe()
  return probed
}

async function probe(): Promise<Capability> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` }
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'network namespaces need root (run the tests as root)' }
  const ns = `${RUN_PREFIX}probe`
  try {
    await run('ip', ['-V'], 5000)
  } catch {
    return { ok: false, reason: 'iproute2 `ip` is not installed' }
  }
  try {
    await run('ip', ['netns', 'add', ns], 10_000)
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'add', 'b0', 'type', 'bridge'], 10_000)
    await run(
      'ip',
      ['netns', 'exec', ns, 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      10_000,
    )
    return { ok: true, reason: '' }
  } catch (err) {
    return {
      ok: false,
      reason: `cannot create a network namespace, bridge and veth pair: ${(err as Error).message}`,
    }
  } finally {
    await removeNamespace(ns).catch(() => {}) // the probe's verdict stands; a namespace left behind carries this pid, and a later run's sweepStaleNamespaces removes it
  }
}
