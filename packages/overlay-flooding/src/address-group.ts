const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const IPV6_GROUP_RE = /^[0-9a-f]{1,4}$/i

/** A dotted-quad IPv4 address (as node:net's isIPv4, without Node). */
function isIPv4(host: string): boolean {
  return IPV4_RE.test(host)
}

/** An IPv6 address: at most 8 groups, one `::` at most, an IPv4 tail allowed, a zone id ignored. */
function isIPv6(host: string): boolean {
  const bare = host.split('%')[0] ?? ''
  const halves = bare.split('::')
  if (halves.length > 2 || !bare.includes(':')) return false
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')))
  const last = groups[groups.length - 1] ?? ''
  const tail = last.includes('.') ? (IPV4_RE.test(last) ? 2 : -99) : 0
  const words = groups.length - (tail > 0 ? 1 : 0)
  if (tail < 0 || !groups.slice(0, words).every((g) => IPV6_GROUP_RE.test(g))) return false
  const count = words + tail
  return halves.length === 2 ? count < 8 : count === 8
}

/**
 * The network group of an observed address (a connection's remote end), for
 * the per-group neighbor limit: `a.b.0.0/16` for a public IPv4 address,
 * `xxxx:yyyy::/32` for a public IPv6 one (the groups Bitcoin Core spreads its
 * peers over). Undefined for what cannot be grouped: loopback, private and
 * link-local addresses (peers on one machine or one LAN), host names, and
 * addresses without an IP (`memory://`, `webrtc://`).
 */
export function addressGroup(address: string): string | undefined {
  let host: string
  try {
    host = new URL(address).hostname
  } catch {
    return undefined // not a URL: nothing to group by, and nothing is limited
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  if (isIPv4(host)) return ipv4Group(host.split('.').map(Number))
  if (!isIPv6(host)) return undefined
  const words = expandIPv6(host)
  // ::ffff:a.b.c.d is an IPv4 address.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const [hi = 0, lo = 0] = words.slice(6)
    return ipv4Group([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])
  }
  const [first = 0, second = 0] = words
  const unroutable =
    words.slice(0, 7).every((w) => w === 0) || // :: and ::1
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xfe00) === 0xfc00 // unique local fc00::/7
  return unroutable ? undefined : `${first.toString(16)}:${second.toString(16)}::/32`
}

function ipv4Group([a = 0, b = 0]: number[]): string | undefined {
  const unroutable =
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168)
  return unroutable ? undefined : `${a}.${b}.0.0/16`
}

/** The eight 16-bit words of a valid IPv6 address (zone dropped, `::` expanded, a dotted IPv4 tail read). */
function expandIPv6(host: string): number[] {
  const bare = host.split('%')[0] ?? ''
  const parts = (s: string) => {
    if (s === '') return []
    const out: number[] = []
    for (const p of s.split(':')) {
      if (p.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = p.split('.').map(Number)
        out.push((a << 8) | b, (c << 8) | d)
      } else out.push(Number.parseInt(p, 16))
    }
    return out
  }
  const [head = '', tail] = bare.split('::')
  const left = parts(head)
  if (tail === undefined) return left
  const right = parts(tail)
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
}
