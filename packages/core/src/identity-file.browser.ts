import { InvalidOptionsError } from './errors.js'
import type { Identity } from './peer-id.js'

/** The browser build's stand-in for `identity-file.ts`: a page has no data folder. */
export const IDENTITY_FILE = 'identity.key'

/**
 * Throws `InvalidOptionsError`: a page has no data folder. Give `createPeer`
 * an identity (`components.identity`, e.g. `Identity.fromSeed` with a seed the
 * page keeps in IndexedDB), or leave `dataDir` out for a new one each time.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  throw new InvalidOptionsError(
    `dataDir (${JSON.stringify(dataDir)}) needs a file system, which a browser page does not have: ` +
      'pass components.identity instead',
  )
}
