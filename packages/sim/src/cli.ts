import { type ParseArgsConfig, parseArgs } from 'node:util'
import { InvalidOptionsError } from '@peerkit/core'
import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { SimulationOptions } from './options.js'
import { reportJson, resultsTable, type SimulationReport, writeReport } from './report.js'
import { longestFirst } from './run-cost.js'
import type { SimPlugins } from './sim-limits.js'
import { isBuiltInOverlay, loadOverlay, OVERLAY_PACKAGES } from './sim-network.js'
import { isFailure, runSimulations } from './sim-pool.js'
import type { SimulationResult } from './simulation.js'
import { parseTopologyKind, type TopologyKind } from './topology.js'

/** What `peerkit sim` accepts. */
export interface SimCommandOptions {
  /** Overlays to compare; `all` on the command line means every known one that loads. */
  overlays: string[]
  nodes: number
  queries: number
  churn: number
  fail: number
  seed: number
  /** Folder for sim.json, report.md and charts/; nothing is written without it. */
  out?: string
  files?: number
  replicas?: number
  latency?: number
  join?: 'protocol' | 'oracle'
  /** The neighbour graph (flooding and plugins that take staticNeighbors): protocol, random, powerlaw, grid. */
  topology?: TopologyKind
  /** `network.maxConnections` of every peer. */
  maxConnections?: number
  /** Virtual ms between queries (mean). */
  queryInterval?: number
  /** Virtual ms the network runs after the joins. */
  warmup?: number
  /** Options per overlay, keyed by overlay name: `{ chord: { stabilizeInterval: 30000 } }`. */
  overlayOptions?: Record<string, Record<string, unknown>>
  /** Network sizes for a hops-against-N sweep of chord (or of the first overlay without chord). */
  sweep?: number[]
  /** Simulations run at once, each in its own worker thread (default: the machine's cores). */
  jobs?: number
  /**
   * Plugin modules every simulation's process imports before its simulation
   * (the CLI's `--plugin`, already loaded in this thread), so a third-party
   * overlay runs in processes of its own as the built-in ones do.
   */
  plugins?: SimPlugins
  /** Print the report as one JSON document instead of the table. */
  json: boolean
  help: boolean
}

/** Where the command writes. `stderr` gets the progress bar (drawn only when it is a TTY). */
export interface SimIo {
  stdout: { write(text: string): unknown }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

export const SIM_USAGE = `Usage: peerkit sim --overlay central|flooding|supernode|chord|all --nodes N --queries Q
                  [--churn R] [--fail P] [--seed S] [--out DIR] [--files F] [--replicas K]
                  [--latency MS] [--join protocol|oracle] [--topology T] [--sweep N1,N2,…] [--jobs J] [--json]

Simulates the real overlays over N peers in virtual time and compares them:
search success, hops, messages per query, time to first hit, load on the
busiest node, bytes, and for chord lookup correctness.

  --overlay NAME       one overlay, a comma-separated list, or all                (required)
  --nodes N            peers                                                      (default 100)
  --queries Q          keyword searches                                           (default 100)
  --churn R            joins (and leaves) per virtual second                      (default 0)
  --fail P             fraction of peers failing at once before the queries       (default 0)
  --seed S             seed: the same seed gives the same result                  (default 1)
  --out DIR            write DIR/sim.json, DIR/report.md and DIR/charts/*.svg
  --files F            distinct files                                             (default max(10, N))
  --replicas K         copies of each file                                        (default 3)
  --latency MS         mean one-way link latency, exponential                     (default 50)
  --join MODE          protocol, or oracle (chord: converged ring from global knowledge;
                       the default for chord, protocol for the others)
  --topology T         protocol (the overlay's own), or random, powerlaw, grid (Lv et al. 2002:
                       a fixed graph over N peers given as staticNeighbors; flooding)  (default protocol)
  --query-interval MS  mean virtual ms between two queries                        (default 200)
  --warmup MS          virtual ms the network runs after the joins                (default 30000)
  --max-connections N  open connections a peer keeps (less memory)                (default 64)
  --options JSON       overlay options by overlay: '{"chord":{"successors":20}}'
  --sweep LIST         also run chord (or the first overlay) at these sizes: hops against N
  --jobs J             simulations run at once, each in its own thread            (default: cores)
  --json               print the report as JSON instead of a table
`

const FLAGS: Record<string, 'string' | 'number' | 'boolean'> = {
  overlay: 'string',
  nodes: 'number',
  queries: 'number',
  churn: 'number',
  fail: 'number',
  seed: 'number',
  out: 'string',
  files: 'number',
  replicas: 'number',
  latency: 'number',
  join: 'string',
  topology: 'string',
  sweep: 'string',
  jobs: 'number',
  'query-interval': 'number',
  'max-connections': 'number',
  warmup: 'number',
  options: 'string',
  json: 'boolean',
  help: 'boolean',
}

/** The flags as given (strings, or true for a switch); parseArgs' errors said in the command's words. */
function readFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } }
  for (const [name, kind] of Object.entries(FLAGS))
    if (name !== 'help') options[name] = { type: kind === 'boolean' ? 'boolean' : 'string' }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >
  } catch (err) {
    const { code, message } = err as { code?: string; message: string }
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new InvalidOptionsError(`unknown option ${flag} (see --help)`, { cause: err })
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new InvalidOptionsError(`${flag} needs a value`, { cause: err })
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new InvalidOptionsError(`unexpected argument '${flag || /'([^']*)'/.exec(message)?.[1]}'`, {
        cause: err,
      })
    throw err
  }
}

/**
 * Parses `peerkit sim` arguments with Node's own `util.parseArgs` (not
 * commander, so the CLI can mount the command as it likes). `--flag value`
 * and `--flag=value` both work. Throws `InvalidOptionsError` naming the flag.
 */
export function parseSimArgs(argv: readonly string[]): SimCommandOptions {
  const raw = readFlags(argv)
  const num = (name: string, fallback: number, integer: boolean, min: number, max: number): number => {
    const v = raw[name]
    if (v === undefined) return fallback
    const x = Number(v)
    if (v === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min || x > max)
      throw new InvalidOptionsError(
        `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${v}')`,
      )
    return x
  }
  const help = raw.help === true
  const overlay = raw.overlay
  if (typeof overlay !== 'string' && !help)
    throw new InvalidOptionsError('--overlay is required (central, flooding, supernode, chord or all)')
  const overlays =
    overlay === 'all'
      ? Object.keys(OVERLAY_PACKAGES)
      : String(overlay ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
  const out: SimCommandOptions = {
    overlays,
    nodes: num('nodes', 100, true, 1, 10_000_000),
    queries: num('queries', 100, true, 0, 100_000_000),
    churn: num('churn', 0, false, 0, 1_000_000),
    fail: num('fail', 0, false, 0, 0.99),
    seed: num('seed', 1, true, -(2 ** 31), 2 ** 31 - 1),
    json: raw.json === true,
    help,
  }
  if (typeof raw.out === 'string') out.out = raw.out
  if (raw.files !== undefined) out.files = num('files', 0, true, 1, 100_000_000)
  if (raw.replicas !== undefined) out.replicas = num('replicas', 0, true, 1, 1000)
  if (raw.latency !== undefined) out.latency = num('latency', 0, false, 0, 60_000)
  if (raw.join !== undefined) {
    if (raw.join !== 'protocol' && raw.join !== 'oracle')
      throw new InvalidOptionsError(`--join must be protocol or oracle (got '${raw.join}')`)
    out.join = raw.join
  }
  if (typeof raw.topology === 'string') out.topology = parseTopologyKind(raw.topology)
  if (raw['query-interval'] !== undefined) out.queryInterval = num('query-interval', 0, false, 0, 86_400_000)
  if (raw['max-connections'] !== undefined) out.maxConnections = num('max-connections', 0, true, 1, 1_000_000)
  if (raw.warmup !== undefined) out.warmup = num('warmup', 0, false, 0, 86_400_000)
  if (raw.jobs !== undefined) out.jobs = num('jobs', 0, true, 1, 256)
  if (typeof raw.options === 'string') {
    let parsed: unknown
    try {
      parsed = JSON.parse(raw.options)
    } catch (err) {
      throw new InvalidOptionsError(`--options must be JSON: ${(err as Error).message}`)
    }
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed) ||
      Object.values(parsed).some((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    )
      throw new InvalidOptionsError(
        `--options must map overlay names to option objects (got '${raw.options}')`,
      )
    out.overlayOptions = parsed as Record<string, Record<string, unknown>>
  }
  if (typeof raw.sweep === 'string') {
    const sizes = raw.sweep.split(',').map((s) => Number(s.trim()))
    if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 2))
      throw new InvalidOptionsError(
        `--sweep must be a comma-separated list of sizes >= 2 (got '${raw.sweep}')`,
      )
    out.sweep = sizes
  }
  return out
}

function simulationOptions(o: SimCommandOptions, overlay: string, nodes = o.nodes): SimulationOptions {
  const s: SimulationOptions = {
    overlay,
    nodes,
    queries: o.queries,
    churn: o.churn,
    fail: o.fail,
    seed: o.seed,
  }
  if (o.files !== undefined) s.files = o.files
  if (o.replicas !== undefined) s.replicas = o.replicas
  if (o.latency !== undefined) s.latency = o.latency
  if (o.join !== undefined && (o.join === 'protocol' || overlay === 'chord')) s.join = o.join
  if (o.topology !== undefined) s.topology = o.topology
  if (o.queryInterval !== undefined) s.queryInterval = o.queryInterval
  if (o.warmup !== undefined) s.warmup = o.warmup
  if (o.maxConnections !== undefined) s.maxConnections = o.maxConnections
  const given = o.overlayOptions?.[overlay]
  if (given) s.overlayOptions = given
  return s
}

/**
 * `peerkit sim`: runs the simulations in worker threads of a child process, `--jobs` at a
 * time, draws a progress bar per running simulation on `io.stderr`,
 * prints the comparison table (or `--json`) on `io.stdout`, and writes the
 * report under `--out`. Resolves to the exit status: 0, 1 when a simulation
 * failed (the others are still reported), 2 for bad usage.
 */
export async function sim(
  argv: readonly string[] | SimCommandOptions,
  io: SimIo,
  context: { plugins?: SimPlugins } = {},
): Promise<number> {
  let o: SimCommandOptions
  try {
    o = Array.isArray(argv) ? parseSimArgs(argv) : (argv as SimCommandOptions)
    if (context.plugins) o = { ...o, plugins: context.plugins }
  } catch (err) {
    io.stderr.write(`peerkit sim: ${(err as Error).message}\n\n${SIM_USAGE}`)
    return 2
  }
  if (o.help) {
    io.stdout.write(SIM_USAGE)
    return 0
  }
  const all = o.overlays.length === Object.keys(OVERLAY_PACKAGES).length && o.overlays.every(isBuiltInOverlay)
  const overlays: string[] = []
  for (const name of o.overlays) {
    try {
      await loadOverlay(name)
      overlays.push(name)
    } catch (err) {
      if (!all) {
        io.stderr.write(`peerkit sim: ${(err as Error).message}\n`)
        return 2
      }
      io.stderr.write(`peerkit sim: skipping ${name}: ${(err as Error).message.split('\n')[0]}\n`)
    }
  }
  const list = overlays.map((overlay) => simulationOptions(o, overlay))
  const swept = overlays.includes('chord') ? 'chord' : overlays[0]
  const sweepFrom = list.length
  if (o.sweep && swept !== undefined)
    for (const nodes of o.sweep) list.push(simulationOptions(o, swept, nodes))
  // Longest first by their estimated CPU, so that the lanes end at about the same time.
  const order = longestFirst(list)
  const bars = new MultiBar(
    {
      stream: io.stderr,
      format: '{overlay} {nodes} {phase} [{bar}] {value}/{total} | virtual {vt} s',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  )
  // Bars only on a terminal: MultiBar writes line breaks elsewhere too.
  const tty = io.stderr.isTTY === true
  const running = new Map<number, { bar: SingleBar; phase: string }>()
  const report: SimulationReport = {
    command: `peerkit sim ${Array.isArray(argv) ? argv.join(' ') : ''}`.trim(),
    results: [],
  }
  let usage = false
  const outcomes = await runSimulations(list, {
    ...(o.plugins && o.plugins.list.length > 0 ? { plugins: o.plugins } : {}),
    ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
    order,
    onProgress: (index, p) => {
      if (!tty) return
      const payload = {
        overlay: p.overlay,
        nodes: list[index]?.nodes,
        phase: p.phase.padEnd(7),
        vt: (p.now / 1000).toFixed(1),
      }
      const shown = running.get(index)
      if (shown?.phase === p.phase) {
        shown.bar.setTotal(p.total)
        shown.bar.update(p.done, payload)
        return
      }
      if (shown) bars.remove(shown.bar)
      running.set(index, { bar: bars.create(p.total, p.done, payload), phase: p.phase })
    },
    onEnd: (index, outcome) => {
      const shown = running.get(index)
      if (shown) bars.remove(shown.bar)
      running.delete(index)
      if (!isFailure(outcome)) return
      if (outcome.error.name === 'InvalidOptionsError') usage = true
      const line = `peerkit sim: ${outcome.options.overlay} with ${outcome.options.nodes} nodes failed: ${outcome.error.message}\n`
      // MultiBar.log writes only while bars are drawn, on a terminal.
      if (tty) bars.log(line)
      else io.stderr.write(line)
    },
  })
  const failed = outcomes.some(isFailure)
  report.results = outcomes.slice(0, sweepFrom).filter((r): r is SimulationResult => !isFailure(r))
  if (list.length > sweepFrom)
    report.sweep = outcomes.slice(sweepFrom).filter((r): r is SimulationResult => !isFailure(r))
  bars.stop()
  if (o.json) io.stdout.write(reportJson(report))
  else {
    io.stdout.write(`${resultsTable(report.results)}\n`)
    if (report.sweep) io.stdout.write(`\n${resultsTable(report.sweep)}\n`)
  }
  if (o.out) {
    try {
      const files = await writeReport(report, o.out)
      if (!o.json)
        io.stdout.write(`\nwrote ${files.length} files to ${o.out} (report.md, sim.json, charts/)\n`)
    } catch (err) {
      io.stderr.write(`peerkit sim: cannot write the report to ${o.out}: ${(err as Error).message}\n`)
      return 1
    }
  }
  return usage ? 2 : failed ? 1 : 0
}
