/**
 * @packageDocumentation
 * Compliance suites: ava tests that every implementation of a contract runs
 * against itself, `createTestnet` for overlay tests over transport-memory, and
 * `TestClock`, the virtual clock behaviour tests drive instead of sleeping.
 * Suites take ava's `test` and a setup function; they import no implementation.
 */

/** The test kit's virtual clocks (driven by hand, or running by themselves) and `heapAfterGc`; they live in core so core's own tests use them too. */
export { drain, heapAfterGc, RunningClock, TestClock } from '@peerkit/core/testing'
export * from './index-persistence-suite.js'
export * from './index-suite.js'
export * from './network.js'
export * from './overlay-suite.js'
export * from './testnet.js'
export * from './transfer-suite.js'
export * from './transport-suite.js'
