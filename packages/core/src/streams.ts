import { pushable } from 'it-pushable'
import { onAbort } from './abort.js'
import type { Clock, TimerHandle } from './clock.js'
import { AbortError } from './errors.js'
import type { SearchOptions } from './overlay.js'

/**
 * Turns a producer into the AsyncIterable that `Overlay.search` returns:
 * values stream as `push`ed; the iteration ends when `run` resolves, ends
 * normally at `options.timeout` (on `clock`), and fails with `AbortError` when
 * `options.signal` aborts. `run` gets a signal that aborts in all those cases,
 * and when the consumer stops early.
 */
export async function* boundedStream<T>(
  clock: Clock,
  options: SearchOptions,
  run: (push: (value: T) => void, signal: AbortSignal) => Promise<void>,
): AsyncGenerator<T, void, undefined> {
  if (options.signal?.aborted) throw new AbortError('search aborted', { cause: options.signal.reason })
  const queue = pushable<T>({ objectMode: true })
  const inner = new AbortController()
  let timer: TimerHandle | undefined
  // One listener per signal however many searches share it (abort.ts), taken off when this one ends.
  const signal = options.signal
  const unfollow =
    signal &&
    onAbort(signal, () => {
      inner.abort()
      queue.end(new AbortError('search aborted', { cause: signal.reason }))
    })
  if (options.timeout !== undefined && Number.isFinite(options.timeout)) {
    timer = clock.setTimeout(() => {
      inner.abort()
      queue.end()
    }, options.timeout)
  }
  run((value) => {
    if (!inner.signal.aborted) queue.push(value)
  }, inner.signal).then(
    () => queue.end(),
    (err) => (inner.signal.aborted ? queue.end() : queue.end(err)),
  )
  try {
    yield* queue
  } finally {
    inner.abort()
    if (timer !== undefined) clock.clearTimeout(timer)
    unfollow?.()
  }
}

/** Collects an async iterable into an array (tests, CLI). */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of source) out.push(v)
  return out
}
