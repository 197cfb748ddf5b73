// The collector's path to the store, with back-pressure accounting. Appends from every
// connection go to the store writer at once and in arrival order: the writer groups what is
// waiting into one write and one fsync (under --fsync interval an append waits for the next
// sync), so many concurrent appends cost one fsync, and a serial queue here would cap
// throughput at one batch per sync. What this queue adds is the count of records handed to
// the store and not yet durable (the backlog), a high-water mark above which connections stop
// reading, and a wake-up for them once the backlog falls below half of it.

import type { LogRecord } from '../record/record.js';
import type { AppendResult } from '../framing/detect.js';

/** Where accepted records go: the store writer, or anything that makes records durable. */
export interface RecordSink {
  append(records: LogRecord[], options?: { batchId?: string }): Promise<AppendResult>;
  close(): Promise<void>;
}

export interface StoreQueueOptions {
  /** Backlog (records not yet durable) above which sources should pause. */
  highWaterRecords?: number;
  /** Called after every append with its duration and record count. */
  onAppend?: (seconds: number, records: number) => void;
}

export class StoreQueue {
  private pendingRecords = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private lowWaiters: Array<() => void> = [];
  readonly highWaterRecords: number;

  constructor(
    private readonly sink: RecordSink,
    private readonly options: StoreQueueOptions = {},
  ) {
    this.highWaterRecords = options.highWaterRecords ?? 400_000;
  }

  /** Records handed to the store and not yet durable. */
  get backlog(): number {
    return this.pendingRecords;
  }

  get overHighWater(): boolean {
    return this.pendingRecords > this.highWaterRecords;
  }

  /** Calls `wake` once, when the backlog has fallen below half the high-water mark. */
  onLowWater(wake: () => void): void {
    this.lowWaiters.push(wake);
  }

  /** Appends records; resolves when they are durable in the store. */
  append(records: LogRecord[], options: { batchId?: string } = {}): Promise<AppendResult> {
    if (records.length === 0 && options.batchId === undefined) {
      return Promise.resolve({ stored: 0, duplicate: false });
    }
    const started = process.hrtime.bigint();
    this.pendingRecords += records.length;
    const done = this.sink.append(records, options);
    const tracked = done
      .then(() => {
        this.options.onAppend?.(Number(process.hrtime.bigint() - started) / 1e9, records.length);
      })
      .catch(() => undefined)
      .finally(() => {
        this.pendingRecords -= records.length;
        this.inFlight.delete(tracked);
        if (this.pendingRecords <= this.highWaterRecords / 2 && this.lowWaiters.length > 0) {
          const waiters = this.lowWaiters;
          this.lowWaiters = [];
          for (const w of waiters) w();
        }
      });
    this.inFlight.add(tracked);
    return done;
  }

  /** Resolves once every append made so far has settled. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
