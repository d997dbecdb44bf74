import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ip, run } from './command.js'
import { HostCommandError } from './errors.js'
import { HOST_IFACE, Host } from './host.js'
import { type HostNetworkOptions, parseHostNetworkOptions } from './options.js'
import { removeNamespaces } from './sweep.js'

const BRIDGE = 'br0'
/** Host addresses start at .11; .1–.10 are never used. */
const FIRST_HOST = 11
const LAST_HOST = 254

/**
 * A private LAN of hosts: one namespace holding a bridge, and one namespace per
 * host joined to it by a veth pair, each with its own address in the /24. No
 * address exists outside these namespaces, and the root namespace gets no
 * interface at all, so nothing the tests do can reach another machine.
 *
 * ```ts
 * const net = await HostNetwork.create()
 * t.teardown(() => net.destroy())
 * const [a, b] = await net.addHosts(2)
 * const pa = await a.startNode({ overlay: 'flooding' })
 * const pb = await b.startNode({ overlay: 'flooding', bootstrap: [pa.address] })
 * ```
 */
export class HostNetwork {
  readonly [Symbol.toStringTag] = '@peerkit/hosts:HostNetwork'
  readonly hosts: Host[] = []
  private nextHost = FIRST_HOST
  private destroyed = false

  private constructor(
    readonly options: Readonly<Required<HostNetworkOptions>>,
    readonly bridgeNs: string,
    /** A temporary folder for the hosts' data, removed by `destroy()`. */
    readonly dir: string,
  ) {}

  /** Creates the bridge namespace. Always pair with `destroy()` (e.g. `t.teardown`). */
  static async create(input: HostNetworkOptions = {}): Promise<HostNetwork> {
    const options = parseHostNetworkOptions(input)
    const bridgeNs = `${options.prefix}-br`
    const dir = await mkdtemp(join(tmpdir(), `${options.prefix}-`))
    const net = new HostNetwork(options, bridgeNs, dir)
    try {
      await run('ip', ['netns', 'add', bridgeNs], options.commandTimeout)
      await ip(['link', 'add', BRIDGE, 'type', 'bridge'], options.commandTimeout, bridgeNs)
      await ip(['link', 'set', BRIDGE, 'up'], options.commandTimeout, bridgeNs)
    } catch (err) {
      await net.destroy()
      throw err
    }
    return net
  }

  /** The next unused host address of the /24. */
  allocateAddress(): string {
    if (this.nextHost > LAST_HOST)
      throw new HostCommandError(`no address left in ${this.options.subnet}.0/24`)
    return `${this.options.subnet}.${this.nextHost++}`
  }

  /** Adds a host: its namespace (loopback up), a veth pair to the bridge, an address. */
  async addHost(): Promise<Host> {
    if (this.destroyed) throw new HostCommandError('the host network was destroyed')
    const t = this.options.commandTimeout
    const index = this.hosts.length + 1
    const name = `h${index}`
    const ns = `${this.options.prefix}-${name}`
    const address = this.allocateAddress()
    const dir = join(this.dir, name)
    await mkdir(dir, { recursive: true })
    const host = new Host(this, name, ns, address, dir)
    this.hosts.push(host)
    await run('ip', ['netns', 'add', ns], t)
    await ip(['link', 'set', 'lo', 'up'], t, ns)
    // Both ends are made inside namespaces: the bridge end never exists in the root namespace.
    await ip(
      ['link', 'add', `v${name}`, 'type', 'veth', 'peer', 'name', HOST_IFACE, 'netns', ns],
      t,
      this.bridgeNs,
    )
    await ip(['link', 'set', `v${name}`, 'master', BRIDGE, 'up'], t, this.bridgeNs)
    await ip(['addr', 'add', `${address}/24`, 'dev', HOST_IFACE], t, ns)
    await ip(['link', 'set', HOST_IFACE, 'up'], t, ns)
    return host
  }

  /** Adds `n` hosts (one after another: `ip` is not fast under load, but it is cheap). */
  async addHosts(n: number): Promise<Host[]> {
    const out: Host[] = []
    for (let i = 0; i < n; i++) out.push(await this.addHost())
    return out
  }

  /**
   * Kills every process of every host, deletes every namespace of this network
   * and its temporary folder. Safe to call twice and after a failed `create`.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    await Promise.all(this.hosts.map((h) => h.killAll()))
    // Hosts first, the bridge last; every namespace is tried, and the folder removed, before a failure is thrown.
    let failure: unknown
    await removeNamespaces(
      [...this.hosts.map((h) => h.ns), this.bridgeNs],
      this.options.commandTimeout,
    ).catch((err) => {
      failure = err // thrown below
    })
    await rm(this.dir, { recursive: true, force: true })
    if (failure !== undefined) throw failure
  }
}
