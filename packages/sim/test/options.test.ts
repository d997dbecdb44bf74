import test from 'ava'
import { parseSimulationOptions } from '../src/index.js'

test('defaults are filled in and the result is frozen', (t) => {
  const o = parseSimulationOptions({ overlay: 'flooding', nodes: 20 })
  t.is(o.nodes, 20)
  t.is(o.files, 20)
  t.is(o.replicas, 3)
  t.is(o.join, 'protocol')
  t.is(o.repairAfterFail, true)
  t.is(o.maxConnections, 64)
  t.is(o.publishers, 128)
  // chord starts from a converged ring, with its upkeep slowed; given options win
  const chord = parseSimulationOptions({ overlay: 'chord', overlayOptions: { stabilizeInterval: 5000 } })
  t.is(chord.join, 'oracle')
  t.is(chord.overlayOptions.stabilizeInterval, 5000)
  t.is(chord.overlayOptions.fixFingersInterval, 60_000)
  t.deepEqual(parseSimulationOptions({ overlay: 'central' }).overlayOptions, {})
  // Flooding's ring ends at the first hit unless told otherwise (SIM_OVERLAY_BASE).
  t.deepEqual(parseSimulationOptions({ overlay: 'flooding' }).overlayOptions, { providerRings: 0 })
  t.deepEqual(
    parseSimulationOptions({ overlay: 'flooding', overlayOptions: { providerRings: 2 } }).overlayOptions,
    { providerRings: 2 },
  )
  // The node-id puzzle stays at difficulty 0 whatever the join (a start-up cost, not a message cost).
  t.deepEqual(parseSimulationOptions({ overlay: 'chord', join: 'protocol' }).overlayOptions, {
    idDifficulty: 0,
  })
  t.is(chord.overlayOptions.idDifficulty, 0)
  t.is(
    parseSimulationOptions({ overlay: 'chord', overlayOptions: { idDifficulty: 4 } }).overlayOptions
      .idDifficulty,
    4,
  )
  t.true(Object.isFrozen(o))
  t.is(parseSimulationOptions({ overlay: 'chord', nodes: 2, replicas: 5 }).replicas, 2)
})

test('bad options name the field', (t) => {
  t.throws(() => parseSimulationOptions({ nodes: 3 }), {
    name: 'InvalidOptionsError',
    message: /sim\.overlay/,
  })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', nodes: 0 }), { message: /sim\.nodes/ })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', fail: 1 }), { message: /sim\.fail/ })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', bogus: 1 }), { message: /sim\.bogus/ })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', publishers: 0 }), { message: /sim\.publishers/ })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', publishers: 2.5 }), {
    message: /sim\.publishers/,
  })
  t.throws(() => parseSimulationOptions({ overlay: 'flooding', join: 'oracle' }), {
    message: /chord overlay only/,
  })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', overlayOptions: [] }), {
    message: /overlayOptions/,
  })
  t.throws(() => parseSimulationOptions({ overlay: 'chord', repairAfterFail: 'no' }), {
    message: /sim\.repairAfterFail/,
  })
  t.throws(() => parseSimulationOptions(null), { name: 'InvalidOptionsError' })
})
