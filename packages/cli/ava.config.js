import base from '../../ava.config.js'

// These tests run real `peerkit` processes one after another: the end-to-end test up to four daemons
// (each bounded by startDaemon's 60 s) and 14 clients, the download-control test six clients beside two
// nodes, the day test 150 s a round. At a load average of 25 on two cores a process gets a twelfth of
// a core, so a test can take minutes. The bound is this run timeout (ava restarts it at every test
// result), not a t.timeout() in each test: ava ignores its run timeout while a longer t.timeout() is
// pending and then never re-arms it, so a worker that did not exit after its last test would hold the
// run for good instead of failing it. The long variants (PEERKIT_LONG_ATTACKS: four rounds of the day,
// PEERKIT_CRASH_ROUNDS: 10 s a round) get more.
const crashRounds = Number(process.env.PEERKIT_CRASH_ROUNDS ?? 5)
const minutes = Math.max(
  process.env.PEERKIT_LONG_ATTACKS ? 11 : 5,
  Math.ceil((30 + crashRounds * 10) / 60) + 1,
)
export default { ...base, timeout: `${minutes}m` }
