/**
 * The Node building blocks of the `tcp` transport that other transports
 * build on (@peerkit/nat wraps relayed and hole-punched sockets in a
 * `TcpConnection`; @peerkit/transport-websocket bounds its listener with
 * `SourceLimits`). Not needed to use `tcp`: its main entry is.
 */
export { reachableAddresses } from './address.js'
export { SourceLimits, sourceAddress, sourceSubnet } from './source-limits.js'
export { TcpConnection, type TcpConnectionInit } from './tcp-connection.js'
export { TcpListener } from './tcp-listener.js'
