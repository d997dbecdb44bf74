import { createHash } from 'node:crypto'
import { type FileRecord, keywords, type PeerRef } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { container as root } from 'tsyringe'
import '@peerkit/index-memory'
import '@peerkit/transport-tcp'
import {
  CENTRAL,
  type CentralRequest,
  type CentralResponse,
  createDirectoryServer,
  type DirectoryServerHandle,
  type DirectoryServerOptions,
} from '../../src/index.js'
import { BoundTcpTransport } from './bound-tcp.js'
import { createNode, type Node } from './net.js'
import { rawLoginTo } from './raw.js'

/** A directory over TCP on 127.0.0.1, and nodes that reach it from chosen loopback source addresses. */
export interface TcpDirectory {
  directory: DirectoryServerHandle
  ref: PeerRef
  /** A started central node (overlay started: logged in) whose connections leave from `from`. */
  node(from: string): Promise<Node>
  /** A node whose network is started, overlay not (to speak the protocol by hand), leaving from `from`. */
  raw(from: string): Promise<Node>
}

export async function tcpDirectory(
  t: ExecutionContext,
  options: DirectoryServerOptions = {},
  store: { index?: string; components?: Record<string, unknown> } = {},
): Promise<TcpDirectory> {
  const directory = await createDirectoryServer({
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    options,
    ...store,
  })
  await directory.start()
  const nodes: Node[] = []
  t.teardown(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await directory.stop()
  })
  const ref = { id: directory.id, addresses: directory.addresses() }
  const make = (from: string) => {
    const node = createNode(
      {
        overlay: 'central',
        transport: 'tcp',
        // A safety bound for a starved machine (the attack tests dial hundreds of times).
        network: { dialTimeout: 30_000 },
        bootstrap: ref.addresses,
        options: { central: { reconnectMin: 20, reconnectMax: 200 } },
      },
      root,
      undefined,
      (identity, clock) => new BoundTcpTransport(identity, clock, from),
    )
    nodes.push(node)
    return node
  }
  return {
    directory,
    ref,
    async node(from) {
      const node = make(from)
      await node.start()
      return node
    },
    async raw(from) {
      const node = make(from)
      await node.network.start()
      return node
    },
  }
}

/** One central request from `node` to the directory. */
export function ask(net: TcpDirectory, node: Node, request: CentralRequest): Promise<CentralResponse> {
  return node.network.request(net.ref, CENTRAL, request)
}

/** hello + login by hand over TCP. */
export function login(net: TcpDirectory, node: Node): Promise<CentralResponse> {
  return rawLoginTo(net.ref, node, { addresses: [] })
}

/** A record of `node` for `name` (hash from `content`, default the name), keywords as given or derived. */
export function recordOf(
  node: Node,
  name: string,
  o: { content?: string; keywords?: string[]; size?: number } = {},
): FileRecord {
  return {
    hash: createHash('sha256')
      .update(o.content ?? name)
      .digest('hex'),
    name,
    size: o.size ?? 1000,
    chunkSize: 65_536,
    keywords: o.keywords ?? keywords(name),
    provider: { id: node.id, addresses: node.addresses() },
  }
}

/**
 * A real file published by a node from 127.0.1.1, and one fake registered by
 * three Sybil keys of one range (127.0.41.x) under a name that matches the same words.
 */
export async function realAndSybils(net: TcpDirectory): Promise<{ real: FileRecord; fake: FileRecord }> {
  const honest = await net.node('127.0.1.1')
  const real = recordOf(honest, 'Ubuntu Desktop 24.04.iso')
  await honest.overlay.publish([real])
  let fake: FileRecord | undefined
  for (const a of [2, 3, 4]) {
    const node = await net.raw(`127.0.41.${a}`)
    await login(net, node)
    fake = recordOf(node, 'ubuntu desktop 24.04 fast.iso', { content: 'malware' })
    await ask(net, node, { type: 'register', records: [fake] })
  }
  return { real, fake: fake as FileRecord }
}
