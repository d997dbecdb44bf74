import { EventEmitter } from 'eventemitter3'
import type { ConnectionEvents } from './transport.js'

/**
 * An EventEmitter that tells its subclass of every listener added (`on`,
 * `addListener`, `once`), through `onListener(event, fn, context, once)`,
 * and of every removal (`off`, `removeListener`, `removeAllListeners`),
 * through `onRemoved(event)`.
 */
export abstract class ListenedEmitter<T extends EventEmitter.ValidEventTypes> extends EventEmitter<T> {
  /** Called whenever a listener is added, after it is. */
  protected abstract onListener(
    event: EventEmitter.EventNames<T>,
    fn: unknown,
    context: unknown,
    once: boolean,
  ): void

  /** Called after listeners of `event` (of every event: undefined) were removed. */
  protected onRemoved(_event: EventEmitter.EventNames<T> | undefined): void {}

  override on<E extends EventEmitter.EventNames<T>>(
    event: E,
    fn: EventEmitter.EventListener<T, E>,
    context?: unknown,
  ): this {
    super.on(event, fn, context)
    this.onListener(event, fn, context, false)
    return this
  }

  override addListener<E extends EventEmitter.EventNames<T>>(
    event: E,
    fn: EventEmitter.EventListener<T, E>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context)
  }

  override once<E extends EventEmitter.EventNames<T>>(
    event: E,
    fn: EventEmitter.EventListener<T, E>,
    context?: unknown,
  ): this {
    super.once(event, fn, context)
    this.onListener(event, fn, context, true)
    return this
  }

  override removeListener<E extends EventEmitter.EventNames<T>>(
    event: E,
    fn?: EventEmitter.EventListener<T, E>,
    context?: unknown,
    once?: boolean,
  ): this {
    super.removeListener(event, fn, context, once)
    this.onRemoved(event)
    return this
  }

  override removeAllListeners(event?: EventEmitter.EventNames<T>): this {
    super.removeAllListeners(event)
    this.onRemoved(event)
    return this
  }
}

// `off` is `removeListener` (as in eventemitter3, whose own `off` would skip `onRemoved`).
ListenedEmitter.prototype.off = ListenedEmitter.prototype.removeListener

type MessageListener = (data: Uint8Array) => void

/**
 * Base of every Connection implementation. A connection's first messages can
 * arrive before its owner has attached a `message` listener (the Network
 * attaches a few ticks after `dial()` resolves, while the remote side sends
 * its identify at once); transports hold them, and this base tells the
 * subclass, through `onMessageListener()`, when a listener arrives so it can
 * hand the held messages over in order. A transport hands a message over with
 * `emitMessage`.
 */
export abstract class ConnectionEmitter extends ListenedEmitter<ConnectionEvents> {
  /**
   * The `message` listener while it is the only one and was added with `on` (a connection's Mux), and
   * its context: `emitMessage` calls it directly. Undefined otherwise (none, several, a `once` one, or
   * after a removal), and `emitMessage` emits.
   */
  private soleMessage: MessageListener | undefined = undefined
  private soleContext: unknown = undefined

  /** Called whenever a `message` listener is added. */
  protected abstract onMessageListener(): void

  protected override onListener(
    event: EventEmitter.EventNames<ConnectionEvents>,
    fn: unknown,
    context: unknown,
    once: boolean,
  ): void {
    if (event !== 'message') return
    const sole = !once && this.listenerCount('message') === 1
    this.soleMessage = sole ? (fn as MessageListener) : undefined
    this.soleContext = context || this // eventemitter3's: the emitter when none is given
    this.onMessageListener()
  }

  protected override onRemoved(event: EventEmitter.EventNames<ConnectionEvents> | undefined): void {
    if (event === undefined || event === 'message') this.soleMessage = undefined
  }

  /**
   * `emit('message', data)`, for a transport handing a message over: says whether anyone listened.
   * The only listener (a connection's Mux) is called directly, without `emit`'s look-ups of the
   * listeners by event name (two more objects to read at every message).
   */
  protected emitMessage(data: Uint8Array): boolean {
    const fn = this.soleMessage
    if (fn === undefined) return this.emit('message', data)
    fn.call(this.soleContext, data)
    return true
  }
}
