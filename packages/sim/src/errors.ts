import { PeerkitError } from '@peerkit/core'

/**
 * The simulation cannot go on: a promise it waits for never settles because
 * no timer is left to fire (or a virtual deadline passed first).
 */
export class SimulationStalledError extends PeerkitError {
  override name = 'SimulationStalledError'
  constructor(message = 'Simulation stalled', options?: ErrorOptions) {
    super(message, options)
  }
}
