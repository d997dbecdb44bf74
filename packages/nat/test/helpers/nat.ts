import {
  CLOCK,
  type Connection,
  IDENTITY,
  Identity,
  LOGGER,
  RealClock,
  silentLogger,
  TRANSPORT,
} from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { container } from 'tsyringe'
import { type NatOptions, type NatTransport, natTransport } from '../../src/index.js'

/** A `nat` transport in its own container, closed by the test's teardown. */
export function makeTransport(t: ExecutionContext, options: NatOptions = {}, identity = Identity.generate()) {
  const c = container.createChildContainer()
  c.register(IDENTITY, { useValue: identity })
  c.register(CLOCK, { useValue: new RealClock() })
  c.register(LOGGER, { useValue: silentLogger() })
  natTransport(options)(c)
  const transport = c.resolve(TRANSPORT) as NatTransport
  t.teardown(() => transport.close())
  return { transport, identity }
}

/** A relay service on 127.0.0.1 (port 0) with `limits`; returns its `tcp://` address. */
export async function makeRelay(t: ExecutionContext, limits: Record<string, unknown> = {}) {
  const { transport, identity } = makeTransport(t, { service: { listen: 'tcp://127.0.0.1:0', ...limits } })
  await transport.listen('tcp://127.0.0.1:0')
  const service = transport.relayService
  if (!service) throw new Error('no relay service')
  return { transport, identity, service, address: `tcp://127.0.0.1:${service.port}` }
}

/** The next message on `conn`, bounded. */
export function nextMessage(conn: Connection, ms = 10_000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms)
    conn.once('message', (m) => {
      clearTimeout(timer)
      resolve(m)
    })
  })
}

/** Resolves when `conn` closes (with its error), bounded. */
export function closed(conn: Connection, ms = 10_000): Promise<Error | undefined> {
  return new Promise((resolve, reject) => {
    if (conn.closed) return resolve(undefined)
    const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms)
    conn.once('close', (err) => {
      clearTimeout(timer)
      resolve(err)
    })
  })
}

/** Polls `fn` until true, bounded. */
export async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
