#!/usr/bin/env node
// The `peerkit` executable. It is a file of the source tree, not of dist/, because npm links a
// package's bin into node_modules/.bin only when the file exists at install time, and dist/ is
// built after the install of a fresh clone (`npm install && npm run build`).
try {
  await import('../dist/src/bin.js')
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/src/bin.js')) throw err
  process.stderr.write('peerkit: the command is not built yet — run `npm run build` at the repository root first\n')
  process.exitCode = 1
}
