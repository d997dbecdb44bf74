/** The test kit's one virtual clock (core's `TestClock`, also exported by @peerkit/compliance). */
export { drain, TestClock as VirtualClock } from '@peerkit/core/testing'
