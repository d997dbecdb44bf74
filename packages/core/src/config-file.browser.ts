import type { PeerConfigInput } from './config.js'
import { InvalidOptionsError } from './errors.js'

/** The browser build's stand-in for `config-file.ts`: throws `InvalidOptionsError` (a page has no files to read). */
export async function loadConfigFile(path: string): Promise<PeerConfigInput> {
  throw new InvalidOptionsError(
    `cannot read config file ${path} in a browser: pass the configuration to createPeer as an object`,
  )
}
