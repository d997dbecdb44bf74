/**
 * Where a connection comes from, as the directory accounts it: the remote
 * IP address and its address range (IPv4 /24, IPv6 /64), taken from the
 * connection's observed `remoteAddress` (never from what the peer announces).
 * An address that is not IP (`memory://name`, `webrtc://…`) is its own range.
 */
export interface Source {
  /** The remote IP (`203.0.113.7`, `2001:db8::1` in full form), or the whole address when it is not IP. */
  readonly address: string
  /** The address range: `203.0.113.0/24`, `2001:db8:0:0::/64`, or the address itself. */
  readonly prefix: string
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** The host of `scheme://host:port` (IPv6 without brackets), or undefined when there is none. */
function hostOf(address: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]+\]|[^/:]+)(?::\d+)?\/?$/i.exec(address)
  return m?.[1]?.replace(/^\[(.*)\]$/, '$1')
}

function ipv4(host: string): number[] | undefined {
  const m = IPV4.exec(host)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  return parts.every((n) => n <= 255) ? parts : undefined
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
function ipv6(host: string): number[] | undefined {
  const zoneless = host.replace(/%.*$/, '')
  if (!zoneless.includes(':')) return undefined
  const halves = zoneless.split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      const v4 = ipv4(g)
      if (v4) {
        out.push((v4[0] as number) * 256 + (v4[1] as number), (v4[2] as number) * 256 + (v4[3] as number))
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(Number.parseInt(g, 16))
      else return undefined
    }
    return out
  }
  const head = groups(halves[0] as string)
  const tail = halves.length === 2 ? groups(halves[1] as string) : []
  if (!head || !tail) return undefined
  const fill = 8 - head.length - tail.length
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined
  return [...head, ...new Array<number>(fill).fill(0), ...tail]
}

function v4Source(parts: number[]): Source {
  return { address: parts.join('.'), prefix: `${parts.slice(0, 3).join('.')}.0/24` }
}

/** The source of a connection whose remote end is `remoteAddress` (`tcp://203.0.113.7:51234`). */
export function sourceOf(remoteAddress: string): Source {
  const host = hostOf(remoteAddress)
  if (host === undefined) return { address: remoteAddress, prefix: remoteAddress }
  const v4 = ipv4(host)
  if (v4) return v4Source(v4)
  const v6 = ipv6(host)
  if (!v6) return { address: host, prefix: host }
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) {
    const [hi, lo] = [v6[6] as number, v6[7] as number]
    return v4Source([hi >> 8, hi & 255, lo >> 8, lo & 255])
  }
  const hex = v6.map((g) => g.toString(16))
  return { address: hex.join(':'), prefix: `${hex.slice(0, 4).join(':')}::/64` }
}
