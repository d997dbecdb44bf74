import test from 'ava'
import { run } from '../src/command.js'
import {
  HostNetwork,
  listNamespaces,
  parseHostNetworkOptions,
  RUN_PREFIX,
  removeNamespace,
  sweepNamespaces,
} from '../src/index.js'
import { hostTest, network } from './helpers/net.js'

const links = async (ns?: string) =>
  JSON.parse(await run('ip', ns ? ['-n', ns, '-j', 'addr'] : ['-j', 'addr'], 10_000)) as {
    ifname: string
    operstate: string
    addr_info: { local: string; family: string }[]
  }[]

test('options: each bad field is named', (t) => {
  t.throws(() => parseHostNetworkOptions({ prefix: 'Bad-Prefix' }), {
    name: 'InvalidOptionsError',
    message: /hosts.prefix/,
  })
  t.throws(() => parseHostNetworkOptions({ subnet: '192.168.1' }), {
    name: 'InvalidOptionsError',
    message: /hosts.subnet/,
  })
  t.throws(() => parseHostNetworkOptions({ commandTimeout: 0 }), {
    name: 'InvalidOptionsError',
    message: /commandTimeout/,
  })
  t.throws(() => parseHostNetworkOptions(null), { name: 'InvalidOptionsError' })
  const o = parseHostNetworkOptions({})
  t.true(o.prefix.startsWith(RUN_PREFIX))
  t.is(o.subnet, '10.77.0')
  t.true(Object.isFrozen(o))
  t.not(parseHostNetworkOptions({}).prefix, o.prefix, 'each network gets its own prefix')
})

hostTest(
  'hosts get their own address inside their namespace only; the root namespace is untouched',
  async (t) => {
    const rootBefore = await links()
    const { net, hosts } = await network(t, 2)
    const [a, b] = hosts
    t.is(a.address, '10.77.0.11')
    t.is(b.address, '10.77.0.12')
    const inA = await links(a.ns)
    const v4 = inA.flatMap((l) => l.addr_info.filter((i) => i.family === 'inet').map((i) => i.local))
    t.deepEqual(v4.sort(), ['10.77.0.11', '127.0.0.1'], 'loopback and its own address only')
    t.true(inA.some((l) => l.ifname === 'eth0' && l.addr_info.some((i) => i.local === '10.77.0.11')))
    const rootAfter = await links()
    t.deepEqual(
      rootAfter.map((l) => l.ifname),
      rootBefore.map((l) => l.ifname),
      'no interface appeared in the root namespace',
    )
    t.false(
      rootAfter.some((l) => l.addr_info.some((i) => i.local.startsWith('10.77.'))),
      'no 10.77 address in the root namespace',
    )
    // a reaches b over the bridge: b's kernel answers a connection to a closed port with a reset.
    await t.throwsAsync(a.exec('bash', ['-c', 'exec 3<>/dev/tcp/10.77.0.12/9']), { message: /refused/i })

    await b.linkDown()
    t.is((await links(b.ns)).find((l) => l.ifname === 'eth0')?.operstate, 'DOWN')
    await b.linkUp()
    const moved = await b.changeAddress()
    t.is(moved, '10.77.0.13')
    t.is(b.address, moved)
    t.true((await links(b.ns)).some((l) => l.addr_info.some((i) => i.local === moved)))
    t.false((await links(b.ns)).some((l) => l.addr_info.some((i) => i.local === '10.77.0.12')))

    await net.destroy()
    const left = await listNamespaces()
    t.false(
      left.some((n) => n.startsWith(net.options.prefix)),
      'every namespace of the network is gone',
    )
  },
)

hostTest('a sweep removes what a network left behind, processes included', async (t) => {
  const net = await HostNetwork.create()
  const [h] = await net.addHosts(1)
  const sleeper = h?.spawn('sleep', ['60'])
  const exited = new Promise((r) => sleeper?.once('exit', r))
  const removed = await sweepNamespaces(net.options.prefix)
  t.deepEqual(removed.sort(), [`${net.options.prefix}-br`, `${net.options.prefix}-h1`].sort())
  t.is(await exited, null, 'the process inside was killed')
  // Already gone: removing it again, or destroying the network, is no error (a namespace that stays would be).
  await removeNamespace(`${net.options.prefix}-h1`)
  await net.destroy()
  await t.throwsAsync(sweepNamespaces('eth'), { instanceOf: RangeError })
})
