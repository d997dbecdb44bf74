import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { PeerConfigInput } from './config.js'
import { InvalidOptionsError } from './errors.js'

/** Reads a JSON configuration file (not yet validated). */
export async function loadConfigFile(path: string): Promise<PeerConfigInput> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InvalidOptionsError(`cannot read config file ${path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  try {
    return withPluginPathsFrom(dirname(resolve(path)), JSON.parse(text) as PeerConfigInput)
  } catch (err) {
    throw new InvalidOptionsError(`config file ${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/** A config file's relative plugin paths (`./x.js`, `../x.js`), made absolute from the file's folder. */
function withPluginPathsFrom(folder: string, input: PeerConfigInput): PeerConfigInput {
  if (input === null || typeof input !== 'object' || !Array.isArray(input.plugins)) return input
  const plugins = input.plugins.map((p) =>
    typeof p === 'string' && /^\.\.?(\/|$)/.test(p) ? resolve(folder, p) : p,
  )
  return { ...input, plugins }
}
