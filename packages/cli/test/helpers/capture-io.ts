import { EventEmitter } from 'node:events'
import type { Io } from '../../src/index.js'

export interface CapturedIo {
  io: Io
  stdout(): string
  stderr(): string
  /** Sends the stop request a long-running command waits for (as SIGINT would). */
  stop(signal?: string): void
}

/** An Io that records what a command writes, for in-process runs of `runCli`. */
export function captureIo(
  options: { cwd?: string; tty?: boolean; env?: Record<string, string> } = {},
): CapturedIo {
  let out = ''
  let err = ''
  const stops = new EventEmitter()
  const io: Io = {
    stdout: { write: (s: string) => (out += s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty ?? false },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    onStop(listener) {
      stops.on('stop', listener)
      return () => stops.off('stop', listener)
    },
  }
  return { io, stdout: () => out, stderr: () => err, stop: (s = 'SIGINT') => stops.emit('stop', s) }
}
