// `node --import …/trace-imports.js`: every module the process imports (ES modules, static and
// dynamic, as resolved file: URLs) is appended to the file PEERKIT_TRACE_IMPORTS names, one a line.
import { register } from 'node:module'

const file = process.env.PEERKIT_TRACE_IMPORTS
if (!file) throw new Error('trace-imports: PEERKIT_TRACE_IMPORTS names no file')
register('./trace-imports-hooks.js', import.meta.url, { data: { file } })
