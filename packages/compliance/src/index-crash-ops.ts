import type { FileRecord } from '@peerkit/core'
import { testRecord } from './index-suite.js'

/** Operations the crash writer issues at once before awaiting them. */
export const CRASH_BURST = 16

/** Operation `k` of the crash writer's endless sequence: puts, and every fourth a removal of an earlier put. */
export function crashOp(k: number): { kind: 'put' | 'remove'; record: FileRecord } {
  if (k % 4 === 3) return { kind: 'remove', record: crashRecord(k - 2) }
  return { kind: 'put', record: crashRecord(k) }
}

function crashRecord(k: number): FileRecord {
  return testRecord(`crash file ${k} of the writer.bin`, `writer${k % 3}`)
}

/** The records left after the first `n` operations, by `hash provider`. */
export function stateAfter(n: number): Map<string, FileRecord> {
  const state = new Map<string, FileRecord>()
  for (let k = 0; k < n; k++) {
    const { kind, record } = crashOp(k)
    const key = `${record.hash} ${record.provider.id}`
    if (kind === 'put') state.set(key, record)
    else state.delete(key)
  }
  return state
}
