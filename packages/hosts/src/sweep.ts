import { ip, run } from './command.js'
import { HostCommandError } from './errors.js'
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

/**
 * SIGKILLs every process inside `ns` (only ever a namespace this harness made)
 * and deletes it. A namespace already gone is no error; one that stays is a
 * `HostCommandError` quoting `ip`.
 */
export async function removeNamespace(ns: string, timeout = DEFAULT_COMMAND_TIMEOUT): Promise<void> {
  const pids = await ip(['netns', 'pids', ns], timeout).catch(() => '') // no namespace, no processes: the delete below tells whether it is still there
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err // ESRCH: it exited meanwhile
    }
  }
  try {
    await run('ip', ['netns', 'delete', ns], timeout)
  } catch (err) {
    // Deleted meanwhile (a namespace's last process exiting, another sweep): nothing is left behind.
    if ((await listNamespaces(timeout)).includes(ns)) throw err
  }
}

/** Removes each of `names` in turn, going on past a failure; throws the failures together at the end. */
export async function removeNamespaces(
  names: readonly string[],
  timeout = DEFAULT_COMMAND_TIMEOUT,
): Promise<void> {
  const failed: Error[] = []
  for (const n of names) await removeNamespace(n, timeout).catch((err: Error) => failed.push(err))
  if (failed.length > 0)
    throw new HostCommandError(
      `${failed.length} namespace(s) could not be removed: ${failed.map((e) => e.message).join('; ')}`,
      { cause: failed[0] },
    )
}

/** Removes every namespace whose name starts with `prefix` (default: this process's run prefix). Returns their names. */
export async function sweepNamespaces(prefix = RUN_PREFIX): Promise<string[]> {
  if (!prefix.startsWith('pkh'))
    throw new RangeError(`refusing to sweep namespaces outside pkh* (got ${prefix})`)
  const names = (await listNamespaces()).filter((n) => n.startsWith(prefix))
  // Hosts first, the bridge namespace last (a host's veth goes with either end).
  names.sort((a, b) => Number(a.endsWith('-br')) - Number(b.endsWith('-br')))
  await removeNamespaces(names)
  return names
}

/** Removes the namespaces of earlier runs whose process is gone (`pkh<pid>t<thread>x…` with no such pid). */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const removed = (await listNamespaces()).filter((n) => {
    const m = STALE_RE.exec(n)
    return m !== null && !alive(Number(m[1]))
  })
  await removeNamespaces(removed)
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
