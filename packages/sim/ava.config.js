import base from '../../ava.config.js'

// A test here runs whole simulations. They run on virtual time and throw SimulationStalledError when they
// cannot go on, so real time bounds only how much CPU a test gets, and 60 s without a test ending is too
// short when a file's simulations share a loaded machine (two CPU-burning processes beside the suite).
// The bound is this run timeout (ava restarts it at every test result), not a t.timeout() in each test:
// ava ignores its run timeout while a longer t.timeout() is pending and then never re-arms it, so a
// worker that did not exit after its last test would hold the run for good instead of failing it.
export default { ...base, timeout: '5m' }
