import base from '../../ava.config.js'

// The Alice and failure tests each build a ring of 30 TCP peers whose every request is encrypted: on a
// loaded machine that takes minutes (every wait in them ends on an event), and PEERKIT_LONG_ATTACKS=1
// runs the quota attack at 56,000 records (up to 10 minutes). The bound is this run timeout (ava restarts
// it at every test result), not a t.timeout() in each test: ava ignores its run timeout while a longer
// t.timeout() is pending and then never re-arms it, so a worker that did not exit after its last test
// would hold the run for good instead of failing it.
export default { ...base, timeout: process.env.PEERKIT_LONG_ATTACKS === '1' ? '11m' : '4m' }
