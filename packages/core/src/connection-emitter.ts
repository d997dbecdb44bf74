import { EventEmitter } from 'eventemitter3'
import type { ConnectionEvents } from './transport.js'

/**
 * Base of every Connection implementation. A connection's first messages can
 * arrive before its owner has attached a `message` listener (the Network
 * attaches a few ticks after `dial()` resolves, while the remote side sends
 * its identify at once); transports hold them, and this base tells the
 * subclass, through `onMessageListener()`, when a listener arrives so it can
 * hand the held messages over in order.
 */
export abstract class ConnectionEmitter extends EventEmitter<ConnectionEvents> {
  /** Called whenever a `message` listener is added. */
  protected abstract onMessageListener(): void

  override on<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context)
    if (event === 'message') this.onMessageListener()
    return this
  }

  override addListener<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context)
  }

  override once<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context)
    if (event === 'message') this.onMessageListener()
    return this
  }
}
