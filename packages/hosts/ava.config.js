import base from '../../ava.config.js'

// These tests start real processes in network namespaces and mount attacks that take minutes on a loaded
// machine: the attack that reopens connections with fresh keys runs up to about 5 minutes with two
// CPU-burning processes beside the suite, and the directory scale-out, about 55 s idle, passes 60 s there.
// The bound is this run timeout (ava restarts it at every test result), not a t.timeout() in each test:
// ava ignores its run timeout while a longer t.timeout() is pending and then never re-arms it, so a
// worker that did not exit after its last test would hold the run for good instead of failing it.
export default { ...base, timeout: '6m' }
