import test from 'ava'
import { formatEta, ProgressBoard } from '../src/progress-board.js'

function sink() {
  let out = ''
  return { stream: { write: (s: string) => (out += s), isTTY: false }, out: () => out }
}

test('off a terminal, a plain line each step percent and every N ms, labelled with the name, with rate, sources and ETA', (t) => {
  const s = sink()
  let now = 0
  const board = new ProgressBoard(s.stream, { plain: true, step: 10, every: 5000, now: () => now })
  const row = board.row('film.mkv')
  const info = (bytes: number, eta?: number) => ({ bytes, size: 1000, rate: 100, sources: 2, eta })
  row.update(info(50, 9.5)) // 5 %: not a step yet
  t.is(s.out(), '')
  row.update(info(120, 8.8)) // past 10 %
  now = 1000
  row.update(info(150, 8.5)) // same step, 1 s later: nothing
  now = 6500
  row.update(info(160, 8.4)) // no new step, but 5.5 s without a line
  row.update(info(450, 5.5)) // 45 %: step 4
  row.done()
  t.deepEqual(s.out().trimEnd().split('\n'), [
    'film.mkv  10%  120 B of 1.0 kB  100 B/s  2 sources  eta 9 s',
    'film.mkv  16%  160 B of 1.0 kB  100 B/s  2 sources  eta 9 s',
    'film.mkv  40%  450 B of 1.0 kB  100 B/s  2 sources  eta 6 s',
    'film.mkv  100%  1.0 kB of 1.0 kB',
  ])
})

test('a remote name cannot reach the terminal raw; without plain nothing is printed off a terminal', (t) => {
  const s = sink()
  new ProgressBoard(s.stream, { plain: true })
    .row('evil\x1b[2J.mkv')
    .update({ bytes: 300, size: 1000, rate: 0, sources: 1 })
  t.is(s.out(), 'evil\\x1b[2J.mkv  25%  300 B of 1.0 kB\n')
  const quiet = sink()
  new ProgressBoard(quiet.stream).row('x').update({ bytes: 900, size: 1000, rate: 1, sources: 1 })
  t.is(quiet.out(), '')
})

test('formatEta', (t) => {
  t.is(formatEta(undefined), '?')
  t.is(formatEta(0.2), '1 s')
  t.is(formatEta(125), '2 min 05 s')
  t.is(formatEta(7260), '2 h 01 min')
  t.is(formatEta(Number.POSITIVE_INFINITY), '?')
})
