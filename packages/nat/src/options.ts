import { parseOptions } from '@peerkit/core'
import { parseTcpTransportOptions } from '@peerkit/transport-tcp'
import { z } from 'zod'

const ms = z.number().int().positive()
const count = z.number().int().min(1)
const tcpAddress = z.string().regex(/^tcp:\/\/\S+:\d+$/, 'a tcp://HOST:PORT address')

/** The relay service's limits (`nat.service`); every one bounds what others can make this peer hold. */
export const relayServiceSchema = z
  .object({
    /** Where the relay service listens (`tcp://0.0.0.0:4002`). Firewalled peers name it in their `nat.relays`. */
    listen: tcpAddress,
    /** Reservations (firewalled peers this relay is reachable for) held at once. @default 128 */
    maxReservations: count.default(128),
    /** Reservations from one source IP address; one beyond is refused and closed. @default 4 */
    maxReservationsPerAddress: count.default(4),
    /** Relayed connections open at once through this relay. @default 64 */
    maxCircuits: count.default(64),
    /** Relayed connections open at once to one reserved peer. @default 8 */
    maxCircuitsPerPeer: count.default(8),
    /** Bytes (both directions together) one relayed connection may carry; then it is cut. @default 134217728 (128 MiB) */
    maxCircuitBytes: count.default(128 * 1024 * 1024),
    /** Milliseconds one relayed connection may last; then it is cut. @default 600000 (10 min) */
    maxCircuitDuration: ms.default(600_000),
    /** Milliseconds a reserved peer has to accept an incoming relayed connection. @default 5000 */
    acceptTimeout: ms.default(5000),
    /** Milliseconds a socket has to send its preface (and, for a reservation, its handshake). @default 5000 */
    prefaceTimeout: ms.default(5000),
    /** Sockets in their preface at once; beyond it new sockets are closed at once. @default 128 */
    maxPending: count.default(128),
    /** Relayed connections one source IP may open per second (token bucket, burst 4×). @default 10 */
    connectRate: z.number().positive().default(10),
    /** Dial-back requests one source IP may make per minute (token bucket, burst the same). @default 6 */
    dialbackRate: z.number().positive().default(6),
    /** Ports one dial-back request may name; more is a protocol error. @default 4 */
    maxDialbackPorts: z.number().int().min(1).max(16).default(4),
    /** Keep-alive pings one reservation may send per minute; beyond it the reservation is closed (`RateLimitError`). @default 60 */
    maxPingsPerMinute: count.default(60),
    /** Milliseconds one dial-back attempt may take (connect and handshake). @default 3000 */
    dialbackTimeout: ms.default(3000),
  })
  .strict()

export const natOptionsSchema = z
  .object({
    /**
     * Relay services (`tcp://HOST:PORT`) to keep a reservation with and ask for a dial-back. Without any
     * the transport is plain TCP: no reachability check, no relayed addresses. @default []
     */
    relays: z.array(tcpAddress).max(8).default([]),
    /** Run a relay service (with its limits); only on a reachable peer. @default undefined (off) */
    service: relayServiceSchema.optional(),
    /** Ask a firewalled peer to dial back to this one when this one is reachable (Gnutella's PUSH). @default true */
    push: z.boolean().default(true),
    /** Try a TCP simultaneous open (hole punch) coordinated over the relayed connection. @default true */
    holePunch: z.boolean().default(true),
    /** Milliseconds a hole punch (or a push) may take before the relayed connection is kept. @default 4000 */
    punchTimeout: ms.default(4000),
    /**
     * Milliseconds a finding about this peer's NAT holds: whether it gives one local port the same public
     * port twice (hole punching is tried only then). @default 300000
     */
    mappingCheckInterval: ms.default(300_000),
    /** Milliseconds to wait for a reservation (and its dial-back) when listening, before going on without. @default 5000 */
    reserveTimeout: ms.default(5000),
    /** Milliseconds before a lost or refused reservation is tried again. @default 5000 */
    reservationRetry: ms.default(5000),
    /**
     * Milliseconds between a reservation's keep-alive pings (they keep the NAT's mapping of the control
     * connection warm); a ping unanswered by the next one closes the reservation, which is then made again.
     * @default 30000
     */
    keepAlive: ms.default(30_000),
    /**
     * Incoming relayed connections being set up at once (an accepting socket, the handshake and the push
     * or punch); a relay's request beyond it is ignored, so no relay can make this peer open sockets
     * without end. @default 32
     */
    maxIncoming: count.default(32),
    /** Milliseconds the relay's answer to a connect may take. @default 10000 */
    connectTimeout: ms.default(10_000),
    /**
     * Ask the router to forward the listen port (NAT-PMP to the default gateway, then UPnP IGD, through
     * `@achingbrain/nat-port-mapper`); the relays' dial-back must still prove the mapped port before it is
     * advertised. Off by default: it changes the router's configuration. @default false
     */
    portMapping: z.boolean().default(false),
    /** Milliseconds each way of port mapping (NAT-PMP, then UPnP discovery and mapping) may take. @default 5000 */
    portMappingTimeout: ms.default(5000),
    /** Options of the TCP transport underneath (as `options.tcp` of `@peerkit/transport-tcp`). @default {} */
    tcp: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()

export type NatOptions = z.input<typeof natOptionsSchema>
export type ParsedNatOptions = Readonly<z.output<typeof natOptionsSchema>>
export type ParsedRelayServiceOptions = Readonly<z.output<typeof relayServiceSchema>>

/** Validates `nat` options (and the `tcp` options inside); throws `InvalidOptionsError` naming the field. */
export function parseNatOptions(input: unknown = {}): ParsedNatOptions {
  const parsed = parseOptions(natOptionsSchema, input ?? {}, 'nat')
  parseTcpTransportOptions(parsed.tcp)
  return parsed
}
