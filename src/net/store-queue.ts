// Group commit in front of the store: records from many connections are gathered into one
// append while the previous append is being made durable, so a thousand clients cost one
// fsync per round, not one each. Each caller's promise resolves when its records are durable.
// Batches that carry an identity (batchId, for dedupe) are appended alone, in arrival order.

import type { LogRecord } from '../record/record.js';
import type { AppendResult } from '../framing/detect.js';

/** Where accepted records go: the store writer, or anything that makes records durable. */
export interface RecordSink {
  append(records: LogRecord[], options?: { batchId?: string }): Promise<AppendResult>;
  close(): Promise<void>;
}

interface Pending {
  records: LogRecord[];
  batchId?: string;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

export interface StoreQueueOptions {
  /** Most records in one grouped append. */
  maxBatchRecords?: number;
  /** Called after every append with its duration and record count. */
  onAppend?: (seconds: number, records: number) => void;
}

export class StoreQueue {
  private readonly pending: Pending[] = [];
  private pendingRecords = 0;
  private writing?: Promise<void>;
  private readonly maxBatchRecords: number;

  constructor(
    private readonly sink: RecordSink,
    private readonly options: StoreQueueOptions = {},
  ) {
    this.maxBatchRecords = options.maxBatchRecords ?? 16_384;
  }

  /** Records waiting for or in an append. */
  get backlog(): number {
    return this.pendingRecords;
  }

  /** Queues records; resolves when they are durable in the store. */
  append(records: LogRecord[], options: { batchId?: string } = {}): Promise<AppendResult> {
    if (records.length === 0 && options.batchId === undefined) {
      return Promise.resolve({ stored: 0, duplicate: false });
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ records, batchId: options.batchId, resolve, reject });
      this.pendingRecords += records.length;
      this.writing ??= this.drain();
    });
  }

  /** Resolves once everything queued so far is durable (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    // Let the current turn of the event loop add what it read before the first append.
    await new Promise<void>((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const group = this.takeGroup();
      const records = group.length === 1 ? group[0].records : group.flatMap((p) => p.records);
      const started = process.hrtime.bigint();
      try {
        const result = await this.sink.append(records, { batchId: group[0].batchId });
        this.options.onAppend?.(Number(process.hrtime.bigint() - started) / 1e9, records.length);
        if (group.length === 1) group[0].resolve(result);
        else for (const p of group) p.resolve({ stored: p.records.length, duplicate: false });
      } catch (err) {
        for (const p of group) p.reject(err);
      } finally {
        this.pendingRecords -= records.length;
      }
    }
    this.writing = undefined;
  }

  private takeGroup(): Pending[] {
    const first = this.pending.shift() as Pending;
    if (first.batchId !== undefined) return [first];
    const group = [first];
    let count = first.records.length;
    while (this.pending.length > 0) {
      const next = this.pending[0];
      if (next.batchId !== undefined || count + next.records.length > this.maxBatchRecords) break;
      group.push(this.pending.shift() as Pending);
      count += next.records.length;
    }
    return group;
  }
}
