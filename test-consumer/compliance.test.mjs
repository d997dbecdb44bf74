// (c) The third-party overlay and index through peerkit's compliance suites, run by the
// application's own ava (a peer dependency of @peerkit/compliance). The overlay: four peers over the
// memory transport, each bootstrapping from every peer before it (one-hop asks only its neighbors),
// the plugins named by configuration, the peers keeping their records in the third-party index.
import 'reflect-metadata'
import '@peerkit/transport-memory'
import '@peerkit/transfer'
import { createTestnet, indexSuite, overlaySuite } from '@peerkit/compliance'
import test from 'ava'
import { ScanIndex } from './third-party-index.mjs'

const plugins = ['./third-party-overlay.mjs', './third-party-index.mjs'].map(
  (p) => new URL(p, import.meta.url).href,
)

overlaySuite(
  test,
  async (t, n, clock) =>
    (await createTestnet(t, n, { overlay: 'one-hop', index: 'scan', bootstrap: n, plugins, clock })).peers,
  {
    title: 'one-hop',
  },
)

indexSuite(test, ({ clock }) => new ScanIndex({ clock }))
