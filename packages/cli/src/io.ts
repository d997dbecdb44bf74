/** A stream commands write to; `isTTY` decides between live output and plain lines. */
export interface OutStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  stdout: OutStream
  stderr: OutStream
  env: Record<string, string | undefined>
  cwd: string
  /** Calls `listener` when the user asks a long-running command to stop; returns the unsubscribe function. */
  onStop(listener: (signal: string) => void): () => void
}

/** The real process: its streams, environment, working folder, SIGINT and SIGTERM. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onStop(listener) {
      process.once('SIGINT', listener)
      process.once('SIGTERM', listener)
      return () => {
        process.off('SIGINT', listener)
        process.off('SIGTERM', listener)
      }
    },
  }
}
