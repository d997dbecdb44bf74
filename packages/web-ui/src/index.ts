import { fileURLToPath } from 'node:url'

/** The folder holding the built page (`dist/assets/`): what `peerkit node` serves. */
export const WEB_UI_ASSETS: string = fileURLToPath(new URL('../assets/', import.meta.url))

/** The page's files in WEB_UI_ASSETS: `index.html` is served at `/`, the others at `/assets/NAME`. */
export const WEB_UI_FILES: readonly string[] = ['index.html', 'app.js', 'app.css']
