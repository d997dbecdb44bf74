import { type ChildProcess, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ip, run } from './command.js'
import type { HostNetwork } from './host-network.js'
import { PeerProcess } from './peer-process.js'

/** The interface name inside every host namespace. */
export const HOST_IFACE = 'eth0'

/** Flags of `Host.startNode`. */
export interface NodeSpec {
  overlay: string
  /** TCP port on the host's address. @default 4001 */
  port?: number
  bootstrap?: string[]
  share?: string[]
  /** Data folder (identity, hash cache): the same folder keeps the PeerId. @default the host's own */
  data?: string
  /** A JSON configuration (written to a file and passed as `--config`). */
  config?: object
  /** Milliseconds to wait for `ready`. @default 30000 */
  readyTimeout?: number
}

/** Flags of `Host.startDirectory`. */
export interface DirectorySpec {
  port?: number
  data?: string
  config?: object
  readyTimeout?: number
}

const DEFAULT_PORT = 4001
const DEFAULT_READY_TIMEOUT = 30_000

/** One machine of a `HostNetwork`: a namespace with one interface on the bridge and its own address. */
export class Host {
  readonly [Symbol.toStringTag] = '@peerkit/hosts:Host'
  private current: string
  private readonly procs = new Set<PeerProcess>()
  private spawned = 0

  constructor(
    readonly network: HostNetwork,
    readonly name: string,
    readonly ns: string,
    address: string,
    /** This host's own folder (data, configs). */
    readonly dir: string,
  ) {
    this.current = address
  }

  /** The host's IPv4 address now. */
  get address(): string {
    return this.current
  }

  /** Processes started on this host (running or not). */
  get processes(): PeerProcess[] {
    return [...this.procs]
  }

  /** Runs a command inside the namespace and resolves its stdout. */
  exec(
    file: string,
    args: readonly string[],
    timeout = this.network.options.commandTimeout,
  ): Promise<string> {
    return run('ip', ['netns', 'exec', this.ns, file, ...args], timeout)
  }

  /** Spawns a long-lived command inside the namespace. */
  spawn(file: string, args: readonly string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.ns, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  }

  /** `peerkit node …` listening on this host's address, API on the namespace's loopback. */
  async startNode(spec: NodeSpec): Promise<PeerProcess> {
    const data = spec.data ?? join(this.dir, 'data')
    const args = [
      'node',
      '--overlay',
      spec.overlay,
      '--listen',
      `tcp://${this.current}:${spec.port ?? DEFAULT_PORT}`,
      '--api',
      '127.0.0.1:0',
      '--data',
      data,
      '--log-level',
      'info',
    ]
    if (spec.bootstrap?.length) args.push('--bootstrap', ...spec.bootstrap)
    if (spec.share?.length) args.push('--share', ...spec.share)
    if (spec.config) args.push('--config', await this.writeConfig(spec.config))
    return this.startPeerkit(args, spec.readyTimeout, data)
  }

  /** `peerkit directory …` (the central strategy's server) on this host's address. */
  async startDirectory(spec: DirectorySpec = {}): Promise<PeerProcess> {
    const args = [
      'directory',
      '--listen',
      `tcp://${this.current}:${spec.port ?? DEFAULT_PORT}`,
      '--data',
      spec.data ?? join(this.dir, 'directory'),
    ]
    if (spec.config) args.push('--config', await this.writeConfig(spec.config))
    return this.startPeerkit(args, spec.readyTimeout)
  }

  /** Takes the host's interface down: its connections go silent (no reset), nothing reaches it. */
  async linkDown(): Promise<void> {
    await ip(['link', 'set', HOST_IFACE, 'down'], this.network.options.commandTimeout, this.ns)
  }

  async linkUp(): Promise<void> {
    await ip(['link', 'set', HOST_IFACE, 'up'], this.network.options.commandTimeout, this.ns)
  }

  /** Gives the host a new address in the network's /24 (the next free one unless named). */
  async changeAddress(address = this.network.allocateAddress()): Promise<string> {
    const t = this.network.options.commandTimeout
    await ip(['addr', 'flush', 'dev', HOST_IFACE], t, this.ns)
    await ip(['addr', 'add', `${address}/24`, 'dev', HOST_IFACE], t, this.ns)
    this.current = address
    return address
  }

  /** Limits what the host sends to `mbit` Mbit/s (tc tbf on its interface). */
  async throttle(mbit: number): Promise<void> {
    await run(
      'ip',
      [
        'netns',
        'exec',
        this.ns,
        'tc',
        'qdisc',
        'replace',
        'dev',
        HOST_IFACE,
        'root',
        'tbf',
        'rate',
        `${mbit}mbit`,
        'burst',
        '32kbit',
        'latency',
        '400ms',
      ],
      this.network.options.commandTimeout,
    )
  }

  /** SIGKILLs every process this host started. */
  async killAll(): Promise<void> {
    await Promise.all([...this.procs].map((p) => p.kill('SIGKILL')))
  }

  /** `data`: the node's data folder, where its API cookie is (the `peerkit` commands and curl read it). */
  private async startPeerkit(
    args: string[],
    readyTimeout = DEFAULT_READY_TIMEOUT,
    data?: string,
  ): Promise<PeerProcess> {
    const { nodePath, peerkitBin } = this.network.options
    const child = this.spawn(nodePath, [peerkitBin, ...args])
    const proc = await PeerProcess.started(this, child, readyTimeout, data)
    this.procs.add(proc)
    return proc
  }

  private async writeConfig(config: object): Promise<string> {
    const path = join(this.dir, `config-${++this.spawned}.json`)
    await writeFile(path, JSON.stringify(config))
    return path
  }
}
