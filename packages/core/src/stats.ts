import type { OverlayStats } from './overlay.js'

/** Counts messages sent and received by kind, for `Overlay.stats()`. */
export class MessageCounter {
  // Made with the first count: most of a simulator's 100,000 nodes never count anything.
  private sentBy: Record<string, number> | undefined
  private receivedBy: Record<string, number> | undefined

  sent(kind: string, n = 1): void {
    this.sentBy ??= {}
    const by = this.sentBy
    by[kind] = (by[kind] ?? 0) + n
  }

  received(kind: string, n = 1): void {
    this.receivedBy ??= {}
    const by = this.receivedBy
    by[kind] = (by[kind] ?? 0) + n
  }

  totalSent(): number {
    return Object.values(this.sentBy ?? {}).reduce((a, b) => a + b, 0)
  }

  totalReceived(): number {
    return Object.values(this.receivedBy ?? {}).reduce((a, b) => a + b, 0)
  }

  snapshot(extra: Record<string, unknown> = {}): OverlayStats {
    return { ...extra, sent: { ...this.sentBy }, received: { ...this.receivedBy } }
  }
}
