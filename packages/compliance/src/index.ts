/**
 * @packageDocumentation
 * Compliance suites: ava tests that every implementation of a contract runs
 * against itself, `createTestnet` for overlay tests over transport-memory, and
 * `TestClock`, the virtual clock behaviour tests drive instead of sleeping.
 * Suites take ava's `test` and a setup function; they import no implementation.
 */

/** The test kit's virtual clock; it lives in core so core's own tests use it too. */
export { drain, TestClock } from '@peerkit/core'
export * from './index-suite.js'
export * from './network.js'
export * from './overlay-suite.js'
export * from './testnet.js'
export * from './transfer-suite.js'
export * from './transport-suite.js'
