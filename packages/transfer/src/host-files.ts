/**
 * The file system the transfer uses: node:fs and node:path on Node. A browser
 * bundle gets `host-files.browser.ts` (package.json's `browser` field), the
 * same calls over the origin-private file system, so the part file, the
 * chunk server and the download run unchanged in a page.
 */
export { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
export { dirname, resolve } from 'node:path'
