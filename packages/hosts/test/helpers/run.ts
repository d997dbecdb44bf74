import { execFile } from 'node:child_process'

/** Runs a command (no shell) and resolves its stdout; rejects with its stderr. */
export function run(file: string, args: readonly string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`))
      else resolve(String(stdout))
    })
  })
}
