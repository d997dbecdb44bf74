import { execFile } from 'node:child_process'
import { HostCommandError } from './errors.js'

/** Runs a command (no shell) and resolves its stdout; rejects with `HostCommandError` quoting stderr. */
export function run(file: string, args: readonly string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          const detail = String(stderr).trim() || err.message
          reject(new HostCommandError(`${file} ${args.join(' ')} failed: ${detail}`, { cause: err }))
        } else resolve(String(stdout))
      },
    )
  })
}

/** `ip …` in the root namespace (namespace management only) or, with `ns`, inside that namespace. */
export function ip(args: readonly string[], timeout: number, ns?: string): Promise<string> {
  return run('ip', ns ? ['netns', 'exec', ns, 'ip', ...args] : args, timeout)
}
