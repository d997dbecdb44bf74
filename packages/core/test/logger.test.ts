import test from 'ava'
import { parsePeerConfig } from '../src/config.js'
import { createLogger, formatLogEntry, type LogEntry, parseLogSpec } from '../src/logger.js'

function capture(level?: string) {
  const entries: LogEntry[] = []
  const root = createLogger({ level, sink: (e) => entries.push(e) })
  return { root, entries }
}

test('the threshold drops lower levels and keeps the rest', (t) => {
  const { root, entries } = capture('info')
  const log = root.forComponent('peerkit:chord')
  log.debug('hidden')
  log.info('shown', { peer: 'abc' })
  log.error('bad')
  t.deepEqual(
    entries.map((e) => [e.level, e.component, e.message]),
    [
      ['info', 'peerkit:chord', 'shown'],
      ['error', 'peerkit:chord', 'bad'],
    ],
  )
  t.false(log.enabled('debug'))
  t.true(log.enabled('warn'))
})

test('per-component overrides: the longest matching prefix wins', (t) => {
  const { root, entries } = capture('warn,peerkit:chord=debug,peerkit:chord:stabilize=silent')
  root.forComponent('peerkit:chord:lookup').debug('lookup detail')
  root.forComponent('peerkit:chord:stabilize').error('not even errors')
  root.forComponent('peerkit:transfer').info('below warn')
  root.forComponent('peerkit:transfer').warn('at warn')
  t.deepEqual(
    entries.map((e) => e.message),
    ['lookup detail', 'at warn'],
  )
})

test('a sub-component name is appended to its parent unless it is already qualified', (t) => {
  const { root } = capture()
  t.is(root.forComponent('peerkit:chord').forComponent('rpc').component, 'peerkit:chord:rpc')
  t.is(root.forComponent('peerkit:chord').forComponent('peerkit:transfer').component, 'peerkit:transfer')
})

test('a line shows the time, level, component, message and fields; errors as name: message', (t) => {
  const err = new RangeError('too far')
  const line = formatLogEntry({
    time: Date.UTC(2026, 11, 6),
    level: 'warn',
    component: 'peerkit:peer',
    message: 'stop failed',
    fields: { err, peer: 'ab12', note: 'two words', skipped: undefined, n: 3 },
  })
  t.is(
    line,
    '2026-12-06T00:00:00.000Z warn  peerkit:peer stop failed err=RangeError: too far peer=ab12 note="two words" n=3',
  )
})

test('a bad level names the part that is wrong, in the spec and in a peer configuration', (t) => {
  t.throws(() => parseLogSpec('loud'), {
    name: 'InvalidOptionsError',
    message: /log level must be one of .*"loud"/,
  })
  t.throws(() => parseLogSpec('warn,peerkit:chord=verbose'), {
    name: 'InvalidOptionsError',
    message: /log level of peerkit:chord/,
  })
  t.throws(() => parseLogSpec('=debug'), { name: 'InvalidOptionsError', message: /names no component/ })
  t.throws(() => parsePeerConfig({ overlay: 'chord', log: 'chatty' }), {
    name: 'InvalidOptionsError',
    message: /^config\.log: /,
  })
  t.is(parsePeerConfig({ overlay: 'chord' }).log, 'warn')
})

test('a peer logs through the LOGGER its parent container registers: a part that fails to stop is a warning, and the peer still stops', async (t) => {
  const { createPeer } = await import('../src/create-peer.js')
  const { container, Lifecycle } = await import('tsyringe')
  const { indexes, overlays, transfers, transports } = await import('../src/registry.js')
  const { LOGGER, OVERLAY } = await import('../src/tokens.js')
  const { arrayIndex, SoloOverlay, stubTransfer, stubTransport } = await import(
    './helpers/stub-components.js'
  )
  class FailingStop extends SoloOverlay {
    override async stop(): Promise<void> {
      throw new Error('socket already gone')
    }
  }
  if (!transports.has('stub')) transports.register('stub', () => stubTransport())
  if (!indexes.has('array')) indexes.register('array', () => arrayIndex())
  if (!transfers.has('stub')) transfers.register('stub', () => stubTransfer())
  overlays.register('failing-stop', () => (c) => {
    c.register(OVERLAY, { useClass: FailingStop }, { lifecycle: Lifecycle.ContainerScoped })
  })
  const { root, entries } = capture('info')
  const parent = container.createChildContainer()
  parent.register(LOGGER, { useValue: root })
  const peer = await createPeer(
    {
      overlay: 'failing-stop',
      transport: 'stub',
      index: 'array',
      transfer: 'stub',
      listen: ['stub://log-1'],
    },
    { container: parent },
  )
  await peer.start()
  await peer.stop()
  const warning = entries.find((e) => e.level === 'warn')
  t.is(warning?.component, 'peerkit:peer')
  t.is(warning?.message, 'overlay failed to stop cleanly')
  t.is((warning?.fields?.err as Error | undefined)?.message, 'socket already gone')
  t.is(entries.filter((e) => e.level === 'warn').length, 1, 'transfer and network stopped without a word')
})
