import { InvalidOptionsError } from './errors.js'
import type { LoadPluginsOptions } from './plugin-loader.js'

export type { LoadPluginsOptions } from './plugin-loader.js'

/**
 * The browser build's stand-in for `plugin-loader.ts`: a page cannot import a
 * module by name at run time, so a plugin is imported by the page's own code
 * (and bundled with it) before `createPeer`. An empty list is fine; any other
 * throws `InvalidOptionsError` naming the first plugin.
 */
export async function loadPlugins(list: readonly string[], options: LoadPluginsOptions = {}): Promise<void> {
  if (list.length === 0) return
  throw new InvalidOptionsError(
    `${options.field ?? 'config.plugins'}[0]: plugin '${list[0]}' cannot be loaded by name in a browser: ` +
      "import it in the page's code instead",
  )
}
