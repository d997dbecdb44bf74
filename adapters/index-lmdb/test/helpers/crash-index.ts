import { LmdbIndex, parseLmdbIndexOptions } from '../../src/index.js'

/** The index the persistence suite's crash writer opens in a child process (and kills with SIGKILL). */
export default (location: string, name: string) => new LmdbIndex(location, name, parseLmdbIndexOptions({}))
