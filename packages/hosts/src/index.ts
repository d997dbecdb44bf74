/**
 * @packageDocumentation
 * Real hosts for fault tests: network namespaces joined by veth pairs to a
 * bridge, one private address each, one `peerkit node` process per host, and
 * the faults a LAN has: a process killed, a link down, a new address.
 *
 * ```ts
 * import { HostNetwork, probeNamespaces } from '@peerkit/hosts'
 *
 * if ((await probeNamespaces()).ok) {
 *   const net = await HostNetwork.create({ subnet: '10.77.0' })
 *   try {
 *     const [a, b] = await net.addHosts(2)
 *     const pa = await a.startNode({ overlay: 'flooding', share: ['/srv/videos'] })
 *     const pb = await b.startNode({ overlay: 'flooding', bootstrap: [pa.address] })
 *     console.log((await pb.search('harry potter')).hits)
 *     await a.linkDown()
 *     await pa.kill() // SIGKILL
 *   } finally {
 *     await net.destroy()
 *   }
 * }
 * ```
 */
export { type Capability, probeNamespaces } from './capability.js'
export { HostCommandError } from './errors.js'
export { type DirectorySpec, HOST_IFACE, Host, type NodeSpec } from './host.js'
export { HostNetwork } from './host-network.js'
export {
  DEFAULT_COMMAND_TIMEOUT,
  DEFAULT_SUBNET,
  defaultPeerkitBin,
  type HostNetworkOptions,
  parseHostNetworkOptions,
  RUN_PREFIX,
} from './options.js'
export {
  type GetJson,
  type PeerInfo,
  PeerProcess,
  type ProviderJson,
  type SearchJson,
  type StatusJson,
} from './peer-process.js'
export { listNamespaces, removeNamespace, sweepNamespaces, sweepStaleNamespaces } from './sweep.js'
