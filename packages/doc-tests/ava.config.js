import base from '../../ava.config.js'

// Each program of the docs runs in a process of its own, killed after 90 s (RUN_LIMIT), two at a time;
// a test waiting for a slot is not running, so the bound is this run timeout (ava restarts it at every
// test result), not a t.timeout() per test: ava ignores its run timeout while a longer t.timeout() is
// pending and then never re-arms it, so a worker that did not exit after its last test would hold the
// run for good instead of failing it.
export default { ...base, timeout: '3m' }
