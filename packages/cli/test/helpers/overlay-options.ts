/** Short intervals so a test-sized network settles in well under a second, per overlay. */
export const FAST_OPTIONS: Record<string, Record<string, unknown>> = {
  central: { central: { reconnectMin: 50, reconnectMax: 500 } },
  flooding: { flooding: { ringTimeout: 100, ttl: 3, maxTtl: 3, maintenanceInterval: 500 } },
  chord: {
    chord: {
      stabilizeInterval: 100,
      fixFingersInterval: 100,
      checkPredecessorInterval: 300,
      // A record stored at a node just as a newcomer takes over its range is found after the provider's
      // next refresh: keep that short here.
      refreshInterval: 1000,
      recordTtl: 10_000,
    },
  },
  supernode: {},
}

/** The overlays to test end to end: the four built in. */
export const OVERLAYS = ['central', 'flooding', 'chord', 'supernode']
