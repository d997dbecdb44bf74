import { getEventListeners } from 'node:events'
import test from 'ava'
import { onAbort } from '../src/abort.js'

test('waits on one signal share one listener; each cancel takes out only its own wait', (t) => {
  const ac = new AbortController()
  const calls: string[] = []
  const note = (name: string) => () => calls.push(name)
  const same = note('same')
  const cancels = [onAbort(ac.signal, same), onAbort(ac.signal, same), onAbort(ac.signal, note('other'))]
  t.is(getEventListeners(ac.signal, 'abort').length, 1)
  cancels[0]?.()
  cancels[0]?.() // a second cancel of the same wait changes nothing
  t.is(getEventListeners(ac.signal, 'abort').length, 1)
  ac.abort()
  t.deepEqual(calls.sort(), ['other', 'same'])
  t.is(getEventListeners(ac.signal, 'abort').length, 0)
  for (const cancel of cancels) cancel() // after the abort: harmless
})

test('the listener leaves with the last wait, and a new wait adds it again', (t) => {
  const ac = new AbortController()
  const cancel = onAbort(ac.signal, () => t.fail('cancelled'))
  cancel()
  t.is(getEventListeners(ac.signal, 'abort').length, 0)
  let called = 0
  onAbort(ac.signal, () => called++)
  t.is(getEventListeners(ac.signal, 'abort').length, 1)
  ac.abort()
  t.is(called, 1)
})

test('a wait that cancels another during the abort does not stop the others', (t) => {
  const ac = new AbortController()
  let second = 0
  let cancelSecond: () => void = () => {}
  onAbort(ac.signal, () => cancelSecond())
  cancelSecond = onAbort(ac.signal, () => second++)
  ac.abort()
  t.true(second <= 1)
  t.is(getEventListeners(ac.signal, 'abort').length, 0)
})
