/** The test kit's self-running virtual clock (core's, also exported by @peerkit/compliance). */
export { RunningClock } from '@peerkit/core/testing'
