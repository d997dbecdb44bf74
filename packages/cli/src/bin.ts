#!/usr/bin/env node
import 'reflect-metadata'
import { runCli } from './program.js'

const code = await runCli(process.argv.slice(2))
process.exitCode = code
// Exit once output is flushed, even if a socket or timer somewhere lingers.
setTimeout(() => process.exit(code), 200).unref()
