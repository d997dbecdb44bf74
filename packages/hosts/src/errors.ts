import { PeerkitError } from '@peerkit/core'

/** A command of the harness (`ip`, `tc`, a `peerkit` process) failed; the message quotes it and its stderr. */
export class HostCommandError extends PeerkitError {
  override name = 'HostCommandError'
  constructor(message = 'Host command failed', options?: ErrorOptions) {
    super(message, options)
  }
}
