import test from 'ava'
import type { Host } from '../src/index.js'
import {
  downloadFrom,
  natCapability,
  natConfig,
  natNetwork,
  pathsOf,
  RELAY_PORT,
  startNatNode,
} from './helpers/nat.js'
import { bytesOf, sha256, shareFile } from './helpers/net.js'

const title =
  'nat port mapping: behind a router with NAT-PMP the listen port is mapped, proven by the dial-back and advertised, and a reachable peer dials it directly; behind one without, the relayed address stays'
if (natCapability.ok)
  test.serial(title, async (t) => {
    const { pub, lans } = await natNetwork(t, 2, [
      { mode: 'endpoint-independent', hosts: 1, portMapping: true },
      { mode: 'endpoint-independent', hosts: 1 },
    ])
    const [relayHost, openHost] = pub as [Host, Host]
    const [mappedHost, plainHost] = lans.map((l) => l.hosts[0] as Host) as [Host, Host]
    const relay = await startNatNode(t, relayHost, {
      overlay: 'flooding',
      config: natConfig('flooding', { service: { listen: `tcp://${relayHost.address}:${RELAY_PORT}` } }),
    })
    const relays = [`tcp://${relayHost.address}:${RELAY_PORT}`]
    const file = bytesOf(1024 * 1024, 77)
    const withMapping = natConfig('flooding', { relays, portMapping: true, portMappingTimeout: 2000 })
    const [mapped, plain, open] = await Promise.all([
      startNatNode(t, mappedHost, {
        overlay: 'flooding',
        bootstrap: [relay.address],
        share: [await shareFile(mappedHost, 'Mapped.Port.Field.Notes.txt', file)],
        config: withMapping,
      }),
      startNatNode(t, plainHost, { overlay: 'flooding', bootstrap: [relay.address], config: withMapping }),
      startNatNode(t, openHost, {
        overlay: 'flooding',
        bootstrap: [relay.address],
        config: natConfig('flooding', { relays }),
      }),
    ])
    const wan = lans[0]?.publicAddress
    t.deepEqual(mapped.info.listen, [`tcp://${wan}:4001`], 'the mapped port, proven by the dial-back')
    t.regex(mapped.log, /port mapped via=nat-pmp/)
    t.true(
      plain.info.listen.every((a) => a.startsWith('relay://')),
      'no gateway daemon: the relayed address',
    )
    const paths = pathsOf(open)
    const { last } = await downloadFrom(t, open, paths, mapped, 'mapped port field notes', sha256(file))
    t.log(`open ← mapped: path ${last?.path} (${last?.direction})`)
    t.is(last?.path, 'direct')
  })
else test.skip(`${title} — skipped: ${natCapability.reason}`, () => {})
