import base from '../../ava.config.js'

// Each test here drives a real Chromium for up to three minutes, so the run's timeout (ava restarts it on
// every test result) is three minutes here, instead of a t.timeout() in each test: ava ignores its run
// timeout while a t.timeout() is longer and then never re-arms it, so a worker that did not exit after
// its last test would hold the run for good rather than fail it.
export default { ...base, timeout: '3m' }
