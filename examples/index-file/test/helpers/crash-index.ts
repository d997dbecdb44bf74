import { join } from 'node:path'
import { FileIndex, parseFileIndexOptions } from '../../src/index.js'

/** The index the persistence suite's crash writer opens in a child process (and kills). */
export default (location: string, name: string) =>
  new FileIndex(join(location, `${name}.jsonl`), parseFileIndexOptions({ dir: location }))
