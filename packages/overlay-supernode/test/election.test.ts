import { Identity, type PeerId } from '@peerkit/core'
import test from 'ava'
import { creditSettled } from '../src/election.js'
import {
  type Candidate,
  compareCandidates,
  creditedCapacity,
  elect,
  electionOrder,
  type LeafCandidate,
  measuredCapacity,
  rank,
} from '../src/index.js'

const ids = Array.from({ length: 4 }, () => Identity.generate().peerId).sort()
const c = (i: number, capacity: number): Candidate => ({
  peer: { id: ids[i] as PeerId, addresses: [] },
  capacity,
})

test('the highest capacity wins, then the lowest PeerId', (t) => {
  t.is(elect([c(0, 1), c(1, 5), c(2, 5)])?.peer.id, ids[1])
  t.is(elect([c(3, 2), c(2, 2)])?.peer.id, ids[2])
  t.true(compareCandidates(c(0, 1), c(1, 1)) < 0)
  t.is(compareCandidates(c(0, 1), c(0, 1)), 0)
})

test('every peer with the same list elects the same one, whatever the order', (t) => {
  const list = [c(0, 3), c(1, 7), c(2, 7), c(3, 1)]
  const winners = new Set(
    [list, [...list].reverse(), [list[2], list[0], list[3], list[1]] as Candidate[]].map(
      (l) => elect(l)?.peer.id,
    ),
  )
  t.deepEqual([...winners], [ids[1]])
})

test('peers known to have failed are skipped; duplicates keep their best capacity', (t) => {
  t.is(elect([c(0, 9), c(1, 1)], new Set([ids[0] as PeerId]))?.peer.id, ids[1])
  t.is(elect([], new Set()), undefined)
  t.deepEqual(
    rank([c(2, 1), c(2, 4), c(1, 2)]).map((x) => [x.peer.id, x.capacity]),
    [
      [ids[2], 4],
      [ids[1], 2],
    ],
  )
})

test('measured capacity: configured wins; else reachable 1 plus an hour of uptime each, at most 24', (t) => {
  t.is(measuredCapacity(7, false, 0), 7)
  t.is(measuredCapacity(0, false, 10 * 3_600_000), 0)
  t.is(measuredCapacity(0, true, 0), 1)
  t.is(measuredCapacity(0, true, 2.5 * 3_600_000), 3)
  t.is(measuredCapacity(0, true, 1000 * 3_600_000), 25)
})

const HOUR = 3_600_000
const CREDIT = { maxCapacity: 25, capacityRamp: HOUR }

test('credited capacity: what a leaf reports, at most maxCapacity and 1 + one per capacityRamp attached', (t) => {
  t.is(creditedCapacity(1e9, 0, CREDIT), 1)
  t.is(creditedCapacity(1e9, 3 * HOUR, CREDIT), 4)
  t.is(creditedCapacity(1e9, 100 * HOUR, CREDIT), 25)
  t.is(creditedCapacity(2, 100 * HOUR, CREDIT), 2)
  t.is(creditedCapacity(0, 100 * HOUR, CREDIT), 0)
})

test('a settled credit no longer changes with time; an unsettled one still grows', (t) => {
  for (const reported of [0, 0.5, 1, 2, 3.7, 25, 1e9]) {
    for (const attached of [0, 1, HOUR - 1, HOUR, 2.7 * HOUR, 24 * HOUR, 1000 * HOUR]) {
      const now = creditedCapacity(reported, attached, CREDIT)
      if (creditSettled(reported, attached, CREDIT)) {
        for (const later of [1, 17, HOUR, 100 * HOUR])
          t.is(creditedCapacity(reported, attached + later, CREDIT), now, `${reported} after ${attached} ms`)
      } else {
        t.true(
          creditedCapacity(reported, attached + 100 * HOUR, CREDIT) > now,
          `${reported} after ${attached} ms`,
        )
      }
    }
  }
  t.true(creditSettled(1, 0, CREDIT), 'a newcomer reporting 1 is credited 1 from the start')
  t.false(creditSettled(5, 3 * HOUR, CREDIT))
  t.true(creditSettled(5, 4 * HOUR, CREDIT))
})

test('election order: fewer supernodes in the range first, then credited capacity, then longer attached; round-robin over ranges', (t) => {
  const leaf = (i: number, reported: number, since: number, prefix: string): LeafCandidate => ({
    peer: { id: ids[i] as PeerId, addresses: [] },
    reported,
    since,
    prefix,
  })
  const now = 10 * HOUR
  const order = electionOrder(
    [
      leaf(0, 1e9, now, 'sybil/24'), // fresh, huge claim
      leaf(1, 1e9, now - HOUR, 'sybil/24'),
      leaf(2, 5, 0, 'a/24'),
      leaf(3, 5, 0, 'taken/24'), // its range already hosts a supernode
    ],
    now,
    new Map([['taken/24', 1]]),
    CREDIT,
  )
  t.deepEqual(
    order.map((c) => [c.peer.id, c.capacity]),
    [
      [ids[2], 5],
      [ids[1], 2],
      [ids[3], 5],
      [ids[0], 1],
    ],
  )
})
