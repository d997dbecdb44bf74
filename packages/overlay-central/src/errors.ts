import { PeerkitError } from '@peerkit/core'

/** A client asked the directory for something before logging in (or after its session was dropped). */
export class NotLoggedInError extends PeerkitError {
  override name = 'NotLoggedInError'
  constructor(message = 'Not logged in to the directory', options?: ErrorOptions) {
    super(message, options)
  }
}
