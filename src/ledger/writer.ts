/**
 * The one way the ledger is written: short synchronous transactions (nothing
 * awaited inside) that begin IMMEDIATE (ledger/db.ts's `immediate`).
 *
 * `LedgerWriter` batches: `add(op)` queues a write, written with the next batch
 * (every `batchSize` ops, or at `flush()`); `now(fn)` writes the queue and `fn`
 * in one transaction and returns what `fn` returned (e.g. a new row's id).
 */
export class LedgerWriter<W> {
  private queue: ((w: W) => void)[] = [];

  constructor(
    private readonly transact: <T>(fn: (w: W) => T) => T,
    private readonly batchSize = 256,
  ) {}

  /** Queue a write; it is written with the next batch. */
  add(op: (w: W) => void): void {
    this.queue.push(op);
    if (this.queue.length >= this.batchSize) this.flush();
  }

  /** Write the queue and `fn` in one transaction now; returns what `fn` returns. */
  now<T>(fn: (w: W) => T): T {
    const ops = this.queue;
    this.queue = [];
    return this.transact((w) => {
      for (const op of ops) op(w);
      return fn(w);
    });
  }

  /** Write everything queued. */
  flush(): void {
    if (this.queue.length > 0) this.now(() => undefined);
  }

  get pending(): number {
    return this.queue.length;
  }
}
