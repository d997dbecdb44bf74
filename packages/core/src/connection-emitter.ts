import { EventEmitter } from 'eventemitter3'
import type { ConnectionEvents } from './transport.js'

/**
 * An EventEmitter that tells its subclass of every listener added (`on`,
 * `addListener`, `once`), through `onListener(event)`.
 */
export abstract class ListenedEmitter<T extends EventEmitter.ValidEventTypes> extends EventEmitter<T> {
  /** Called whenever a listener is added, after it is. */
  protected abstract onListener(event: EventEmitter.EventNames<T>): void

  override on<E extends EventEmitter.EventNames<T>>(
    event: E,
    fn: EventEmitter.EventListener<T, E>,
    context?: unknown,
  ): this {
    super.on(event, fn, context)
    this.onListener(event)
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
    this.onListener(event)
    return this
  }
}

/**
 * Base of every Connection implementation. A connection's first messages can
 * arrive before its owner has attached a `message` listener (the Network
 * attaches a few ticks after `dial()` resolves, while the remote side sends
 * its identify at once); transports hold them, and this base tells the
 * subclass, through `onMessageListener()`, when a listener arrives so it can
 * hand the held messages over in order.
 */
export abstract class ConnectionEmitter extends ListenedEmitter<ConnectionEvents> {
  /** Called whenever a `message` listener is added. */
  protected abstract onMessageListener(): void

  protected override onListener(event: EventEmitter.EventNames<ConnectionEvents>): void {
    if (event === 'message') this.onMessageListener()
  }
}
