import type { LookupReport } from './chord.js'
import type { Summary } from './metrics.js'
import type { ParsedSimulationOptions } from './options.js'

/** What one run measured. Times are virtual milliseconds unless named `real…`. */
export interface SimulationResult {
  overlay: string
  options: ParsedSimulationOptions
  network: {
    /** Peers at the start. */
    nodes: number
    /** Peers alive at the end. */
    live: number
    /** Peers that joined during the measured phase (churn). */
    joined: number
    /** Peers that left during the measured phase (churn). */
    left: number
    /** Peers failed at once before the queries. */
    failed: number
    /** Peers whose `start()` failed. */
    joinFailures: number
    /** Peers whose `publish` failed. */
    publishFailures: number
  }
  queries: {
    issued: number
    /** Queries for which some matching file had a live provider. */
    answerable: number
    /** Answerable queries that returned at least one correct hit. */
    succeeded: number
    /** `succeeded / answerable`. */
    successRate: number
    /** Queries whose hits included the file they were aimed at. */
    targetFound: number
    /** Hits that did not match the query (should be 0). */
    falseHits: number
    /** Searches that threw. */
    errors: number
    /** Distinct files per query, mean. */
    hitsPerQuery: number
  }
  /** Overlay hops of the first hit (where the overlay reports them). */
  hops: Summary
  /** Virtual ms from a search's start to its first hit. */
  firstHitMs: Summary
  messages: {
    /** Messages on the hub during the query phase (every protocol). */
    total: number
    /**
     * Messages per virtual second when no query runs (maintenance) during the query phase: the mean of
     * `backgroundBeforePerSecond` and `backgroundAfterPerSecond`.
     */
    backgroundPerSecond: number
    /** The background measured over the second half of the settle, before the queries. */
    backgroundBeforePerSecond: number
    /**
     * The background measured after everything measured (as long as the settle measured it); the
     * before figure again after a failure (`fail`) or under churn, when the network is no longer the
     * one the queries met.
     */
    backgroundAfterPerSecond: number
    /**
     * Messages per query: the messages of the kinds a search exchanges (`SEARCH_KINDS`), counted in the
     * query window, over the queries issued; `perQueryEstimate` for an overlay that has no such list.
     */
    perQuery: number
    /** True when `perQuery` was counted by kind; false when it is the estimate. */
    perQueryCounted: boolean
    /** `(total − backgroundPerSecond × duration) / issued`: every protocol's traffic, upkeep estimated away. */
    perQueryEstimate: number
    /** `perQuery / nodes`. */
    perQueryPerPeer: number
    /** Overlay messages sent during the query phase, by kind (`overlay.stats()`). */
    byKind: Record<string, number>
  }
  bytes: {
    /** Bytes on the hub during the query phase. */
    total: number
    /** `(total − background) / issued`. */
    perQuery: number
  }
  /** Load on the busiest node (the directory server counts for `central`). */
  load: {
    /** Overlay messages the busiest node received during the query phase. */
    maxMessages: number
    meanMessages: number
    /** Records the busiest node holds at the end (the overlay's `records` figure, else the node's own shares). */
    maxRecords: number
    meanRecords: number
  }
  /** Chord only: lookups checked against the true successor. */
  lookups?: LookupReport
  cost: {
    /** Virtual duration of the whole run, ms. */
    virtualMs: number
    /** Virtual duration of the query phase, ms. */
    queryPhaseMs: number
    realMs: number
    /** Timers fired. */
    events: number
    eventsPerRealSecond: number
    /** JS heap used with the network built and warm, bytes. */
    heapBytes: number
    /** Growth of the JS heap per peer while building the network, bytes. */
    heapBytesPerPeer: number
    /** JS heap used at the end of the run (connections opened by the traffic included), bytes. */
    heapEndBytes: number
    rssBytes: number
  }
}
