/**
 * The Node building blocks of the `tcp` transport that other transports
 * build on (@peerkit/nat wraps relayed and hole-punched sockets in a
 * `TcpConnection`; @peerkit/transport-websocket bounds its listener with
 * `ListenerLimits`). Not needed to use `tcp`: its main entry is.
 */
export { reachableAddresses } from './address.js'
export { type ListenerLimitOptions, ListenerLimits, sourceAddress } from './source-limits.js'
export { TcpConnection, type TcpConnectionInit } from './tcp-connection.js'
export { TcpListener } from './tcp-listener.js'
