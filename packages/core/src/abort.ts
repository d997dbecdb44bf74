/**
 * Waits on an `AbortSignal` that many callers share (one signal for a whole
 * search, its walkers and their requests) put one `abort` listener on it,
 * whatever their number: each wait adds a callback to the signal's set and
 * takes it out when it settles, and the one listener leaves with the last
 * callback. Adding a listener per wait warns `MaxListenersExceededWarning`
 * past ten at once and keeps every settled wait's closure alive as long as
 * the signal.
 */

interface Waits {
  readonly callbacks: Set<() => void>
  readonly listener: () => void
}

const bySignal = new WeakMap<AbortSignal, Waits>()

/**
 * Runs `fn` once when `signal` aborts; the returned function cancels that
 * (call it when the wait settles). `fn` is not called for a signal already
 * aborted: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let waits = bySignal.get(signal)
  if (waits === undefined) {
    const callbacks = new Set<() => void>()
    const listener = () => {
      bySignal.delete(signal)
      for (const callback of [...callbacks]) callback()
      callbacks.clear()
    }
    waits = { callbacks, listener }
    bySignal.set(signal, waits)
    signal.addEventListener('abort', listener, { once: true })
  }
  // A wrapper per wait, so the same function may wait twice and each cancels only its own.
  const callback = () => fn()
  const { callbacks, listener } = waits
  callbacks.add(callback)
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return
    if (bySignal.get(signal)?.callbacks === callbacks) bySignal.delete(signal)
    signal.removeEventListener('abort', listener)
  }
}
