/** Where a batch is queued from (`.then` of a settled promise: the next microtask). */
const RESOLVED = Promise.resolve()

/** Slots of a batch before its sends: who sends, the message, and how many sends follow. */
const HEAD = 3

/**
 * Runs of sends of one message, each run on one microtask. A run holds sends that would each have
 * taken a microtask of their own, queued one right after another with nothing queued between (so
 * they would run one right after another too): run together, they run in the same order against
 * every other microtask, with one promise job instead of one per send.
 *
 * A batch is `open`ed (its microtask queued then), filled with `add`, and `close`d; its slots are
 * the sender, the message, the number of sends, then each send's two values. One array for every
 * sender, which stays in the CPU's caches; emptied, it starts again from its first slot.
 */
export class PostBatches<S, M, A, B> {
  private readonly q: unknown[] = []
  private head = 0
  private tail = 0
  /** Where the batch being filled begins (-1: none is). */
  private filling = -1
  private readonly runOldest = (): void => this.runBatch()

  /** `post` is called for each send of a batch, in order, when its microtask runs. */
  constructor(private readonly post: (sender: S, message: M, a: A, b: B) => void) {}

  /** True while a batch is being filled. */
  get isOpen(): boolean {
    return this.filling !== -1
  }

  /** Starts a batch (and queues its microtask); the sends added until `close` join it. */
  open(sender: S, message: M): void {
    const q = this.q
    const at = this.tail
    q[at] = sender
    q[at + 1] = message
    q[at + 2] = 0
    this.filling = at
    this.tail = at + HEAD
    RESOLVED.then(this.runOldest)
  }

  /** Adds a send to the open batch. */
  add(a: A, b: B): void {
    const q = this.q
    const at = this.tail
    q[at] = a
    q[at + 1] = b
    this.tail = at + 2
    const count = this.filling + 2
    q[count] = (q[count] as number) + 1
  }

  /** Ends the open batch: a send added after it starts a new one. */
  close(): void {
    this.filling = -1
  }

  private runBatch(): void {
    const q = this.q
    const at = this.head
    const sender = q[at] as S
    const message = q[at + 1] as M
    const end = at + HEAD + 2 * (q[at + 2] as number)
    let failed = false
    let error: unknown
    for (let i = at + HEAD; i < end; i += 2) {
      try {
        this.post(sender, message, q[i] as A, q[i + 1] as B)
      } catch (err) {
        // Each send was a microtask of its own, and one that failed did not stop the next: the batch
        // goes on, and fails with the first error once all its sends ran (the unhandled rejection its
        // microtask's promise reports, as the first failed send's did).
        if (!failed) error = err
        failed = true
      }
    }
    for (let i = at; i < end; i++) q[i] = undefined
    // A batch opened by a send above (none of the Network's do) sits after this one: the queue is emptied only without one.
    if (end === this.tail && this.filling === -1) this.head = this.tail = 0
    else this.head = end
    if (failed) throw error
  }
}
