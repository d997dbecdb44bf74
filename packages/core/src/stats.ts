import type { OverlayStats } from './overlay.js'

/** Counts messages sent and received by kind, for `Overlay.stats()`. */
export class MessageCounter {
  private readonly sentBy: Record<string, number> = {}
  private readonly receivedBy: Record<string, number> = {}

  sent(kind: string, n = 1): void {
    this.sentBy[kind] = (this.sentBy[kind] ?? 0) + n
  }

  received(kind: string, n = 1): void {
    this.receivedBy[kind] = (this.receivedBy[kind] ?? 0) + n
  }

  totalSent(): number {
    return Object.values(this.sentBy).reduce((a, b) => a + b, 0)
  }

  totalReceived(): number {
    return Object.values(this.receivedBy).reduce((a, b) => a + b, 0)
  }

  snapshot(extra: Record<string, unknown> = {}): OverlayStats {
    return { ...extra, sent: { ...this.sentBy }, received: { ...this.receivedBy } }
  }
}
