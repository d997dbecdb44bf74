import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WEB_UI_ASSETS, WEB_UI_FILES } from '@peerkit/web-ui'

/** One file of the page, held in memory. */
export interface WebAsset {
  type: string
  body: Buffer
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/**
 * The page's files from @peerkit/web-ui, by URL path (`/` is index.html,
 * the others under `/assets/`). Read once at start: the server answers only
 * these paths, so no request names a file on disk.
 */
export async function loadWebAssets(dir = WEB_UI_ASSETS): Promise<Map<string, WebAsset>> {
  const assets = new Map<string, WebAsset>()
  for (const name of WEB_UI_FILES) {
    const ext = name.slice(name.lastIndexOf('.'))
    const body = await readFile(join(dir, name))
    assets.set(name === 'index.html' ? '/' : `/assets/${name}`, {
      type: TYPES[ext] ?? 'application/octet-stream',
      body,
    })
  }
  return assets
}
