import type { Socket } from 'node:net'
import type { Clock } from '@peerkit/core'

/** Why a relayed connection ended. */
export type SpliceEnd = 'closed' | 'bytes' | 'duration'

export interface SpliceLimits {
  /** Bytes both directions together may carry. */
  maxBytes: number
  /** Milliseconds it may last. */
  maxDuration: number
  clock: Clock
}

/**
 * Joins two sockets byte for byte (the relay never decrypts: both ends run
 * their own handshake through it), with backpressure each way, and cuts both
 * at `maxBytes` or `maxDuration`. Resolves with why it ended and the bytes carried.
 */
export function splice(
  a: Socket,
  b: Socket,
  limits: SpliceLimits,
): Promise<{ end: SpliceEnd; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0
    let ended = false
    const finish = (end: SpliceEnd) => {
      if (ended) return
      ended = true
      limits.clock.clearTimeout(timer)
      a.destroy()
      b.destroy()
      resolve({ end, bytes })
    }
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > limits.maxBytes) return finish('bytes')
        if (!to.write(chunk)) from.pause()
      })
      to.on('drain', () => from.resume())
      from.on('end', () => to.end())
      from.on('close', () => finish('closed'))
      from.on('error', () => finish('closed')) // the close that follows ends the splice; nothing to keep
    }
    const timer = limits.clock.setTimeout(() => finish('duration'), limits.maxDuration)
    pipe(a, b)
    pipe(b, a)
    a.resume()
    b.resume()
  })
}
