/**
 * @packageDocumentation
 * The docs' code blocks, found and classified: every fenced `ts` (or
 * `typescript`, `js`, `mjs`) block in the README files and `docs/` is a
 * complete program that the tests compile and run, unless its info string
 * says `sketch` (```` ```ts sketch ````), which marks a fragment shown for
 * its shape (a file of a package under construction, a test body).
 *
 * ```ts sketch
 * import { extractBlocks } from '@peerkit/doc-tests'
 * const blocks = extractBlocks(markdown, 'README.md').filter((b) => b.runs)
 * ```
 */
export * from './extract.js'
