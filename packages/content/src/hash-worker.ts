// A worker thread of HashPool: hashes the chunk ranges it is sent.
import { parentPort } from 'node:worker_threads'
import { hashChunks } from './hash-chunks.js'

export interface HashJob {
  id: number
  path: string
  size: number
  chunkSize: number
  first: number
  end: number
}

export type HashReply = { id: number; leaves: Uint8Array } | { id: number; error: string }

parentPort?.on('message', (job: HashJob) => {
  hashChunks(job.path, job.size, job.chunkSize, job.first, job.end).then(
    (leaves) =>
      parentPort?.postMessage({ id: job.id, leaves } satisfies HashReply, [leaves.buffer as ArrayBuffer]),
    (err: Error) => parentPort?.postMessage({ id: job.id, error: err.message } satisfies HashReply),
  )
})
