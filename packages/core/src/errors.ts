/** Base class of every error peerkit throws. Tell them apart by `err.name`. */
export class PeerkitError extends Error {
  override name = 'PeerkitError'
}

/** Configuration or options failed validation; the message names the field and the accepted values. */
export class InvalidOptionsError extends PeerkitError {
  override name = 'InvalidOptionsError'
  constructor(message = 'Invalid options', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A method that needs a started component was called before `start()` or after `stop()`. */
export class NotStartedError extends PeerkitError {
  override name = 'NotStartedError'
  constructor(message = 'Not started', options?: ErrorOptions) {
    super(message, options)
  }
}

/** No transport could reach the peer, or the connection to it was lost. */
export class PeerUnreachableError extends PeerkitError {
  override name = 'PeerUnreachableError'
  constructor(message = 'Peer unreachable', options?: ErrorOptions) {
    super(message, options)
  }
}

/** An operation did not finish within its timeout. */
export class TimeoutError extends PeerkitError {
  override name = 'TimeoutError'
  constructor(message = 'Timed out', options?: ErrorOptions) {
    super(message, options)
  }
}

/** An operation was cancelled through its `AbortSignal`. */
export class AbortError extends PeerkitError {
  override name = 'AbortError'
  constructor(message = 'Aborted', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A peer broke the wire protocol: a malformed, unknown or oversized frame, or a failed handshake. */
export class ProtocolError extends PeerkitError {
  override name = 'ProtocolError'
  constructor(message = 'Protocol error', options?: ErrorOptions) {
    super(message, options)
  }
}

/** The thing asked for (a file, a record, a key) does not exist here. */
export class NotFoundError extends PeerkitError {
  override name = 'NotFoundError'
  constructor(message = 'Not found', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A peer proved a different identity than the one expected, or its signature did not verify. */
export class AuthenticationError extends PeerkitError {
  override name = 'AuthenticationError'
  constructor(message = 'Authentication failed', options?: ErrorOptions) {
    super(message, options)
  }
}

/** The remote peer does not speak the requested protocol. */
export class UnsupportedProtocolError extends PeerkitError {
  override name = 'UnsupportedProtocolError'
  constructor(message = 'Unsupported protocol', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A peer exceeded a rate or size limit and was throttled. */
export class RateLimitError extends PeerkitError {
  override name = 'RateLimitError'
  constructor(message = 'Rate limit exceeded', options?: ErrorOptions) {
    super(message, options)
  }
}

/** Content failed verification against its content hash. */
export class VerificationError extends PeerkitError {
  override name = 'VerificationError'
  constructor(message = 'Verification failed', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A file in the data folder cannot be read back (empty, cut short, not the expected format); the message names it and says what to do. */
export class DamagedFileError extends PeerkitError {
  override name = 'DamagedFileError'
  constructor(message = 'Damaged file', options?: ErrorOptions) {
    super(message, options)
  }
}

/**
 * An error a remote peer answered with. `name` is the remote error's name
 * (`NotFoundError`, `RateLimitError` …), so callers can discriminate on it.
 */
export class RemoteError extends PeerkitError {
  constructor(
    remoteName: string,
    message: string,
    readonly peer?: string,
  ) {
    super(message)
    this.name = remoteName
  }
}

/** Throws `AbortError` when the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError('Aborted', { cause: signal.reason })
}
