import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { indexSuite } from '@peerkit/compliance'
import test from 'ava'
import { FileIndex, parseFileIndexOptions } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'peerkit-index-file-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

let made = 0
// Every case gets a fresh log. Without fsync: the suite's 20,000 puts would each wait for the disk (about
// 3.5 ms here, 70 s in all) and what is checked, the log's content, is the same; file-index.test.ts and
// peer.test.ts run with fsync on.
indexSuite(
  test,
  () => new FileIndex(join(dir, `case-${++made}.jsonl`), parseFileIndexOptions({ dir, fsync: false })),
)
