/**
 * `@peerkit/core/testing`: virtual clocks for tests (`TestClock`, advanced by
 * the test; `RunningClock`, which runs by itself) and `drain`. Plugin authors
 * get them, with the rest of the test kit, from `@peerkit/compliance`.
 */
export * from './running-clock.js'
export * from './test-clock.js'
