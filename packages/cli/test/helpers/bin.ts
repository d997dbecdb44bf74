import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The compiled `peerkit` entry point. */
export const BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url))

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `peerkit ARGS…` to completion (bounded) and returns its exit status and output. */
export function runBin(
  args: string[],
  options: {
    timeout?: number
    cwd?: string
    env?: NodeJS.ProcessEnv
    bin?: string
    nodeArgs?: string[]
  } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), options.bin ?? BIN, ...args],
      {
        timeout: options.timeout ?? 30_000,
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

export interface Daemon {
  child: ChildProcess
  /** The `key value` lines it printed up to `ready`. */
  lines: Map<string, string[]>
  stderr(): string
  /** SIGTERM, then waits (bounded) for the exit status. */
  stop(): Promise<number | null>
}

const live = new Set<ChildProcess>()
// If the test process goes away (a timeout), its nodes go with it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Starts a long-running `peerkit node|directory …` and waits (bounded: 60 s, for a loaded machine) for its `ready` line. */
export function startDaemon(args: string[], timeout = 60_000): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  child.once('exit', () => live.delete(child))
  const stdout = child.stdout
  if (!stdout) throw new Error('no stdout pipe')
  let err = ''
  child.stderr?.on('data', (d) => (err += d))
  const lines = new Map<string, string[]>()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const daemon: Daemon = {
    child,
    lines,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`peerkit ${args.join(' ')} printed no ready line within ${timeout} ms:\n${err}`))
    }, timeout)
    let ready = false
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!ready) reject(new Error(`peerkit ${args.join(' ')} exited with ${code} before ready:\n${err}`))
    })
    const rl = createInterface({ input: stdout })
    rl.on('line', (line) => {
      const i = line.indexOf(' ')
      const key = i < 0 ? line : line.slice(0, i)
      lines.set(key, [...(lines.get(key) ?? []), line.slice(i + 1)])
      if (line === 'ready') {
        ready = true
        clearTimeout(timer)
        resolve(daemon)
      }
    })
  })
}

/** `node --overlay O --listen tcp://127.0.0.1:0 --api 127.0.0.1:0 --log-level warn [--data DIR] …extra`. */
export function nodeArgs(overlay: string, data?: string, ...extra: string[]): string[] {
  return [
    'node',
    '--overlay',
    overlay,
    '--listen',
    'tcp://127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'warn',
    ...(data ? ['--data', data] : []),
    ...extra,
  ]
}
