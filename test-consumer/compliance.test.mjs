// (c) The third-party overlay through peerkit's overlay compliance suite, run by the application's
// own ava (a peer dependency of @peerkit/compliance): four peers over the memory transport, each
// bootstrapping from every peer before it (one-hop asks only its neighbors), the plugin named by
// configuration.
import 'reflect-metadata'
import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import { createTestnet, overlaySuite } from '@peerkit/compliance'
import test from 'ava'

const plugin = new URL('./third-party-overlay.mjs', import.meta.url).href

overlaySuite(
  test,
  async (t, n) => (await createTestnet(t, n, { overlay: 'one-hop', bootstrap: n, plugins: [plugin] })).peers,
  {
    title: 'one-hop',
  },
)
