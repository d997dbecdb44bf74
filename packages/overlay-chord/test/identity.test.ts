import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, Identity, loadOrCreateIdentity } from '@peerkit/core'
import test from 'ava'
import { PUZZLE_CACHE, puzzleBits, puzzleCacheSize, solvePuzzle, solvesPuzzle } from '../src/index.js'

const DIFFICULTY = 4

test('a restart gives the same chord PeerId: the one derived from identity.key, not the key on disk', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'peerkit-chord-identity-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  // a data folder whose identity.key does not solve the puzzle (15 in 16 do not)
  let dataDir = ''
  for (let i = 0; ; i++) {
    if (i > 200) return t.fail('200 identities in a row solved the puzzle')
    dataDir = join(root, `peer${i}`)
    if (!solvesPuzzle((await loadOrCreateIdentity(dataDir)).peerId, DIFFICULTY)) break
  }
  const onDisk = await loadOrCreateIdentity(dataDir)
  const config = {
    overlay: 'chord',
    transport: 'memory',
    listen: ['memory://chord-identity-test'],
    dataDir,
    options: { chord: { idDifficulty: DIFFICULTY } },
  }
  const first = await createPeer(config)
  const second = await createPeer(config)
  t.not(first.id, onDisk.peerId, 'the node runs under the derived identity')
  t.true(solvesPuzzle(first.id, DIFFICULTY))
  t.is(second.id, first.id, 'a restart from the same data folder keeps the id (and the ring place)')
  t.is(first.id, solvePuzzle(onDisk, DIFFICULTY).peerId)
  t.is((await loadOrCreateIdentity(dataDir)).peerId, onDisk.peerId, 'the key on disk is left as it was')
})

test('the puzzle check keeps at most PUZZLE_CACHE PeerIds, and solving a puzzle leaves none of its failed candidates there', (t) => {
  let identity = Identity.generate()
  while (puzzleBits(identity.peerId) >= 8) identity = Identity.generate() // one that must derive another
  const before = puzzleCacheSize()
  const solved = solvePuzzle(identity, 8) // about 256 candidates
  t.true(solvesPuzzle(solved.peerId, 8))
  t.true(puzzleCacheSize() <= before + 2, 'the identity and the one found, not the candidates')
  for (let i = 0; i < 2 * PUZZLE_CACHE + 100; i++) {
    solvesPuzzle(`peer-${i}`, 8)
    if (puzzleCacheSize() > PUZZLE_CACHE) return t.fail(`${puzzleCacheSize()} PeerIds cached`)
  }
  t.true(puzzleCacheSize() > PUZZLE_CACHE / 2)
})
