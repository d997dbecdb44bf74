import { fileURLToPath } from 'node:url'
import { PostgresIndex } from '../../src/index.js'

/** This module, for the persistence suite's crash writer: `(url, name) => Index` on the real clock. */
export const CRASH_MODULE = fileURLToPath(import.meta.url)

export default (url: string, name: string) => new PostgresIndex({ url, name })
