import { PeerkitError } from '@peerkit/core'

/** The command line was wrong: an unknown flag, a bad value, a missing argument. Exit status 2. */
export class UsageError extends PeerkitError {
  override name = 'UsageError'
  constructor(message = 'Bad usage', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A failure the user can fix; the message says how. Exit status 1. */
export class CommandError extends PeerkitError {
  override name = 'CommandError'
  constructor(message = 'Command failed', options?: ErrorOptions) {
    super(message, options)
  }
}

/** Exit status 2 for bad usage (including invalid configuration), 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  const name = (err as Error | undefined)?.name
  return name === 'UsageError' || name === 'InvalidOptionsError' ? 2 : 1
}

/**
 * A download's output cannot be used as asked: the file exists (and no
 * `--force`), its folder does not, or another download writes to it. Exit
 * status 1; the message says what to do.
 */
export class OutputError extends PeerkitError {
  override name = 'OutputError'
  constructor(message = 'Output path cannot be used', options?: ErrorOptions) {
    super(message, options)
  }
}
