import '../src/register.js'
import test from 'ava'
import { isLoopback, parseHostPort, parseNodeOptions, transportArg, transportsFor } from '../src/index.js'

test('parseHostPort reads HOST:PORT, [v6]:PORT and the URL a node prints', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:4680'), { host: '127.0.0.1', port: 4680 })
  t.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 })
  t.deepEqual(parseHostPort('http://localhost:0/'), { host: 'localhost', port: 0 })
  for (const bad of ['localhost', '127.0.0.1:', ':80', '1.2.3.4:123456', 'tcp://1.2.3.4:5'])
    t.throws(() => parseHostPort(bad), { message: /expected HOST:PORT/ }, bad)
})

test('isLoopback knows 127/8, ::1 and localhost only', (t) => {
  for (const h of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) t.true(isLoopback(h), h)
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1']) t.false(isLoopback(h), h)
})

test('node flags win over the config file, which fills in the rest', (t) => {
  const file = {
    overlay: 'chord',
    listen: ['tcp://127.0.0.1:4001'],
    bootstrap: ['tcp://127.0.0.1:4002'],
    dataDir: 'from-file',
    options: { chord: { successors: 3 } },
  }
  const o = parseNodeOptions({ overlay: 'flooding', data: 'flag-data', share: ['videos'] }, file, '/home/u')
  t.is(o.config.overlay, 'flooding')
  t.deepEqual(o.config.listen, ['tcp://127.0.0.1:4001'])
  t.deepEqual(o.config.bootstrap, ['tcp://127.0.0.1:4002'])
  t.is(o.config.dataDir, '/home/u/flag-data')
  t.deepEqual(o.config.options, { chord: { successors: 3 } })
  t.deepEqual(o.share, ['/home/u/videos'])
  t.deepEqual(o.api, { host: '127.0.0.1', port: 4680 })
  t.is(o.config.transport, 'tcp')
})

test('without a config file the transport follows the address schemes', (t) => {
  const o = parseNodeOptions(
    { overlay: 'central', listen: ['memory://a'], bootstrap: ['tcp://127.0.0.1:1'] },
    undefined,
    '/',
  )
  t.deepEqual(o.config.transport, ['memory', 'tcp'])
  t.deepEqual(o.config.listen, ['memory://a'])
  t.is(transportsFor([]), 'tcp')
})

test('an API off loopback needs no data folder: its cookie goes to the default place', (t) => {
  t.deepEqual(parseNodeOptions({ overlay: 'central', api: '0.0.0.0:4680' }, undefined, '/').api, {
    host: '0.0.0.0',
    port: 4680,
  })
})

test('the config file holds every flag of peerkit node: shares, api, logLevel, shareHidden, shareDownloads, watchShares', (t) => {
  const o = parseNodeOptions(
    { share: ['music'] },
    {
      overlay: 'flooding',
      shares: ['films', 'music'],
      api: '127.0.0.1:4999',
      logLevel: 'debug',
      shareHidden: true,
      shareDownloads: false,
      watchShares: false,
    },
    '/home/u',
  )
  t.deepEqual(o.share, ['/home/u/films', '/home/u/music'])
  t.deepEqual(o.api, { host: '127.0.0.1', port: 4999 })
  t.is(o.logLevel, 'debug')
  t.true(o.shareHidden)
  t.false(o.shareDownloads)
  t.false(o.watch)
  t.false('shares' in o.config, 'the command fields do not reach the peer configuration')
  const flagsWin = parseNodeOptions(
    { watch: true, shareDownloads: true },
    { overlay: 'flooding', watchShares: false },
    '/',
  )
  t.true(flagsWin.watch)
  const defaults = parseNodeOptions({ overlay: 'flooding' }, undefined, '/')
  t.deepEqual([defaults.shareHidden, defaults.shareDownloads, defaults.watch], [false, true, true])
})

test('config file mistakes name the field: a string listen, a typo in a field or a component name', (t) => {
  t.throws(() => parseNodeOptions({}, { overlay: 'flooding', listen: 'tcp://127.0.0.1:4001' }, '/'), {
    name: 'InvalidOptionsError',
    message: /^config\.listen /,
  })
  t.throws(() => parseNodeOptions({}, { overlay: 'flooding', sahres: ['x'] }, '/'), {
    name: 'InvalidOptionsError',
    message: /config\.sahres is not a field .*did you mean shares\?/,
  })
  t.throws(() => parseNodeOptions({}, { overlay: 'flooding', options: { flodding: { ttl: 3 } } }, '/'), {
    name: 'InvalidOptionsError',
    message: /config\.options\.flodding names no registered component; did you mean flooding\?/,
  })
  t.throws(
    () => parseNodeOptions({}, { overlay: 'flooding', options: { transfer: { downloadRate: 1 } } }, '/'),
    {
      name: 'InvalidOptionsError',
      message: /config\.options\.transfer .*'transfer:default'/,
    },
  )
  t.throws(() => parseNodeOptions({}, { overlay: 'flooding', api: 'localhost' }, '/'), {
    name: 'InvalidOptionsError',
    message: /^config\.api: expected HOST:PORT/,
  })
  t.throws(() => parseNodeOptions({}, { overlay: 'flooding', logLevel: 'loud' }, '/'), {
    name: 'InvalidOptionsError',
    message: /config\.logLevel/,
  })
  // Qualified and plain component names are accepted.
  t.notThrows(() =>
    parseNodeOptions(
      {},
      { overlay: 'flooding', options: { 'transfer:default': {}, flooding: {}, tcp: {} } },
      '/',
    ),
  )
})

test('--transport accepts every transport the CLI registers, webrtc included', (t) => {
  for (const name of ['tcp', 'memory', 'webrtc']) t.is(transportArg(name), name)
  t.throws(() => transportArg('carrier-pigeon'), { message: /must be one of .*'webrtc'/ })
})
