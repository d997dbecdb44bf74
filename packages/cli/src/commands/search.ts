import type { Command } from 'commander'
import { displayText } from '../display.js'
import { formatBytes, formatMs, plural, shortId } from '../format.js'
import { HitSet } from '../hits.js'
import type { Io } from '../io.js'
import { DEFAULT_SEARCH_TIMEOUT, integerArg, MAX_SEARCH_TIMEOUT } from '../options.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

interface SearchFlags extends ClientFlags {
  timeout: number
  limit?: number
}

/** `peerkit search QUERY`: hits stream as they arrive; `--json` prints them merged by hash at the end. */
export function searchCommand(program: Command, io: Io): Command {
  const cmd = program
    .command('search')
    .summary('search the network through a running node')
    .description(
      'Searches the network through a running `peerkit node`. QUERY is keywords (all must match, ' +
        'case and accents ignored) or a content hash. Hits print as they arrive: hash, size, name, providers.',
    )
    .argument('<query...>', 'keywords, or a 64-digit content hash')
    .option(
      '--timeout <ms>',
      'milliseconds the node keeps searching',
      integerArg(1, MAX_SEARCH_TIMEOUT),
      DEFAULT_SEARCH_TIMEOUT,
    )
    .option('--limit <n>', 'stop after this many distinct files', integerArg(1, 10_000))
  addClientOptions(cmd, io).action(async (words: string[], flags: SearchFlags) => {
    const query = words.join(' ')
    const client = await clientFor(flags, io)
    const hits = new HitSet()
    const started = Date.now()
    for await (const hit of client.search(query, { timeout: flags.timeout, limit: flags.limit })) {
      const { isNew, newProviders } = hits.add(hit)
      if (flags.json) continue
      if (isNew) {
        const hops = hit.hops === undefined ? '' : `, ${plural(hit.hops, 'hop')}`
        io.stdout.write(
          `${displayText(hit.hash)}  ${formatBytes(hit.size).padStart(8)}  ${displayText(hit.name)}  (${plural(hit.providers.length, 'provider')}${hops})\n`,
        )
      } else {
        for (const p of newProviders)
          io.stdout.write(
            `${displayText(hit.hash)}  + ${displayText(shortId(p.id))} also has ${displayText(hit.name)}\n`,
          )
      }
    }
    if (flags.json) {
      printJson(io, {
        query,
        hits: hits.hits().map((h) => ({
          hash: h.hash,
          name: h.name,
          size: h.size,
          providers: h.providers,
          chunkSize: h.chunkSize,
          ...(h.hops === undefined ? {} : { hops: h.hops }),
        })),
      })
    } else {
      const took = formatMs(Date.now() - started)
      io.stderr.write(
        hits.size === 0
          ? `no file matches "${displayText(query)}" (searched for ${took}); try fewer keywords or a longer --timeout\n`
          : `${plural(hits.size, 'file')} found in ${took}; fetch one with: peerkit get HASH --out FILE\n`,
      )
    }
  })
  return cmd
}
