/**
 * `@peerkit/core/testing`: virtual clocks for tests (`TestClock`, advanced by
 * the test; `RunningClock`, which runs by itself), `drain`, and `heapAfterGc`
 * for tests that bound memory. Plugin authors get them, with the rest of the
 * test kit, from `@peerkit/compliance`.
 */
export * from './heap.js'
export * from './running-clock.js'
export * from './test-clock.js'
