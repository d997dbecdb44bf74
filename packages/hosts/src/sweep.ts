import { ip, run } from './command.js'
import { DEFAULT_COMMAND_TIMEOUT, RUN_PREFIX } from './options.js'

const STALE_RE = /^pkh(\d+)t\d+x/

/** Names of the network namespaces that exist now. */
export async function listNamespaces(timeout = DEFAULT_COMMAND_TIMEOUT): Promise<string[]> {
  const out = await ip(['netns', 'list'], timeout)
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0)
}

/** SIGKILLs every process inside `ns` (only ever a namespace this harness made) and deletes it. */
export async function removeNamespace(ns: string, timeout = DEFAULT_COMMAND_TIMEOUT): Promise<void> {
  const pids = await ip(['netns', 'pids', ns], timeout).catch(() => '')
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await run('ip', ['netns', 'delete', ns], timeout).catch(() => undefined)
}

/** Removes every namespace whose name starts with `prefix` (default: this process's run prefix). Returns their names. */
export async function sweepNamespaces(prefix = RUN_PREFIX): Promise<string[]> {
  if (!prefix.startsWith('pkh'))
    throw new RangeError(`refusing to sweep namespaces outside pkh* (got ${prefix})`)
  const names = (await listNamespaces()).filter((n) => n.startsWith(prefix))
  // Hosts first, the bridge namespace last (a host's veth goes with either end).
  names.sort((a, b) => Number(a.endsWith('-br')) - Number(b.endsWith('-br')))
  for (const n of names) await removeNamespace(n)
  return names
}

/** Removes the namespaces of earlier runs whose process is gone (`pkh<pid>t<thread>x…` with no such pid). */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const removed: string[] = []
  for (const n of await listNamespaces()) {
    const m = STALE_RE.exec(n)
    if (!m || alive(Number(m[1]))) continue
    await removeNamespace(n)
    removed.push(n)
  }
  return removed
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
