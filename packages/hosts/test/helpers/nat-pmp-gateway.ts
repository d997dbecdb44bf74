/**
 * A NAT-PMP gateway (RFC 6886) for the NAT test bed's routers, run inside a
 * router namespace: `node nat-pmp-gateway.js LAN_ADDRESS WAN_ADDRESS`. It
 * answers the external-address request, and maps a TCP port for the host that
 * asks (and only to that host) with a real iptables DNAT rule on the WAN side;
 * a lifetime of 0 removes the rule. It prints `listening`, then one line per
 * mapping.
 */
import { execFileSync } from 'node:child_process'
import { createSocket } from 'node:dgram'

const [lan = '', wan = ''] = process.argv.slice(2)
const epoch = Date.now()
const socket = createSocket('udp4')
const rules = new Map<number, string[]>()

function reply(op: number, result: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt8(0, 0)
  head.writeUInt8(128 + op, 1)
  head.writeUInt16BE(result, 2)
  head.writeUInt32BE(Math.floor((Date.now() - epoch) / 1000), 4)
  return Buffer.concat([head, body])
}

socket.on('message', (msg, from) => {
  const op = msg.readUInt8(1)
  const send = (b: Buffer) => socket.send(b, from.port, from.address)
  if (msg.readUInt8(0) !== 0) return send(reply(op, 1, Buffer.alloc(0))) // unsupported version
  if (op === 0) return send(reply(0, 0, Buffer.from(wan.split('.').map(Number))))
  if (op !== 2 || msg.length < 12) return send(reply(op, 5, Buffer.alloc(8))) // TCP mappings only
  const internal = msg.readUInt16BE(4)
  const external = msg.readUInt16BE(6) || internal
  const lifetime = msg.readUInt32BE(8)
  const rule = ['PREROUTING', '-i', 'wan', '-p', 'tcp', '--dport', String(external), '-j', 'DNAT']
  const target = ['--to-destination', `${from.address}:${internal}`]
  const old = rules.get(external)
  if (old) execFileSync('iptables', ['-t', 'nat', '-D', ...old])
  rules.delete(external)
  if (lifetime > 0) {
    execFileSync('iptables', ['-t', 'nat', '-A', ...rule, ...target])
    rules.set(external, [...rule, ...target])
  }
  process.stdout.write(
    `${lifetime > 0 ? 'mapped' : 'unmapped'} ${wan}:${external} -> ${from.address}:${internal}\n`,
  )
  const body = Buffer.alloc(8)
  body.writeUInt16BE(internal, 0)
  body.writeUInt16BE(external, 2)
  body.writeUInt32BE(lifetime, 4)
  send(reply(2, 0, body))
})
socket.bind(5351, lan, () => process.stdout.write('listening\n'))
