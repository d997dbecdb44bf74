import { Worker } from 'node:worker_threads'
import type { HashJob, HashReply } from './hash-worker.js'

interface Queued {
  job: HashJob
  resolve: (leaves: Uint8Array) => void
  reject: (err: Error) => void
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url)

/**
 * A fixed set of worker threads hashing chunk ranges in parallel, so a big
 * folder (or one big file, cut into ranges) uses more than one core.
 */
export class HashPool {
  readonly [Symbol.toStringTag] = '@peerkit/content:HashPool'
  private readonly idle: Worker[] = []
  private readonly all: Worker[] = []
  private readonly queue: Queued[] = []
  private readonly running = new Map<Worker, Queued>()
  private nextId = 1
  private closed = false

  constructor(size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(WORKER_URL)
      worker.unref()
      worker.on('message', (reply: HashReply) => this.onReply(worker, reply))
      worker.on('error', (err) => this.onCrash(worker, err))
      this.all.push(worker)
      this.idle.push(worker)
    }
  }

  get size(): number {
    return this.all.length
  }

  /** Leaf hashes of chunks `[first, end)` of the file at `path`. */
  hash(path: string, size: number, chunkSize: number, first: number, end: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, path, size, chunkSize, first, end }, resolve, reject })
      this.pump()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const q of this.queue.splice(0)) q.reject(new Error('hash pool closed'))
    await Promise.all(this.all.map((w) => w.terminate()))
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker
      const q = this.queue.shift() as Queued
      this.running.set(worker, q)
      worker.postMessage(q.job)
    }
  }

  private onReply(worker: Worker, reply: HashReply): void {
    const q = this.running.get(worker)
    this.running.delete(worker)
    this.idle.push(worker)
    if (q) {
      if ('error' in reply) q.reject(new Error(reply.error))
      else q.resolve(new Uint8Array(reply.leaves))
    }
    this.pump()
  }

  private onCrash(worker: Worker, err: Error): void {
    this.running.get(worker)?.reject(err)
    this.running.delete(worker)
  }
}
