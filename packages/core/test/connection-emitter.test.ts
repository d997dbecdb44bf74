import test from 'ava'
import { ConnectionEmitter } from '../src/index.js'

/** A connection's emitter as a transport uses it: `emitMessage` hands a message over; added message listeners are counted. */
class Emitter extends ConnectionEmitter {
  added = 0
  protected onMessageListener(): void {
    this.added++
  }
  hand(data: Uint8Array): boolean {
    return this.emitMessage(data)
  }
}

const bytes = (n: number) => Uint8Array.of(n)

test('emitMessage with no listener: nobody listened, as emit says', (t) => {
  const e = new Emitter()
  t.false(e.hand(bytes(1)))
})

test("emitMessage calls the only listener with its context, or the emitter's when none was given", (t) => {
  const e = new Emitter()
  const owner = {
    got: [] as number[],
    onFrame(this: { got: number[] }, data: Uint8Array) {
      this.got.push(data[0] as number)
    },
  }
  e.on('message', owner.onFrame, owner)
  t.is(e.added, 1)
  t.true(e.hand(bytes(1)))
  t.true(e.hand(bytes(2)))
  t.deepEqual(owner.got, [1, 2])
  const plain = new Emitter()
  let self: unknown
  plain.on('message', function (this: unknown) {
    self = this
  })
  plain.hand(bytes(3))
  t.is(self, plain, "eventemitter3's default context")
})

test('several listeners, a once listener, and listeners added while holding messages: as emit', (t) => {
  const e = new Emitter()
  const got: string[] = []
  e.on('message', (d) => got.push(`a${d[0]}`))
  e.addListener('message', (d) => got.push(`b${d[0]}`))
  e.hand(bytes(1))
  t.deepEqual(got, ['a1', 'b1'])
  const o = new Emitter()
  const once: number[] = []
  o.once('message', (d) => once.push(d[0] as number))
  t.true(o.hand(bytes(1)))
  t.false(o.hand(bytes(2)), 'the once listener is gone')
  t.deepEqual(once, [1])
  t.is(o.added, 1)
})

test('a removed listener is not called: off, removeListener, removeAllListeners; one added again is', (t) => {
  for (const remove of [
    (e: Emitter, fn: (d: Uint8Array) => void) => e.off('message', fn),
    (e: Emitter, fn: (d: Uint8Array) => void) => e.removeListener('message', fn),
    (e: Emitter) => e.removeAllListeners('message'),
    (e: Emitter) => e.removeAllListeners(),
  ]) {
    const e = new Emitter()
    const got: number[] = []
    const fn = (d: Uint8Array) => got.push(d[0] as number)
    e.on('message', fn)
    e.hand(bytes(1))
    remove(e, fn)
    t.false(e.hand(bytes(2)))
    e.on('message', fn)
    t.true(e.hand(bytes(3)))
    t.deepEqual(got, [1, 3])
  }
})

test('a second listener after the first: both hear every message after it, in order', (t) => {
  const e = new Emitter()
  const got: string[] = []
  e.on('message', (d) => got.push(`a${d[0]}`))
  e.hand(bytes(1))
  e.on('message', (d) => got.push(`b${d[0]}`))
  e.hand(bytes(2))
  e.off('message')
  t.false(e.hand(bytes(3)))
  t.deepEqual(got, ['a1', 'a2', 'b2'])
})
