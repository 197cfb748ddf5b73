// The stdout sink: NDJSON records on standard output, with back-pressure (a slow reader of
// the pipe slows the source). Delivered means handed to the operating system, not durable.

import type { Writable } from 'node:stream';
import type { Batch } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { encodeNdjson } from './ndjson.js';

export class StdoutSink {
  constructor(private readonly out: Writable = process.stdout) {}

  /** Writes the records; resolves when the stream has taken them. */
  write(records: readonly LogRecord[]): Promise<void> {
    return this.writeEncoded([encodeNdjson(records)]);
  }

  /** Writes records already encoded as NDJSON (pieces in order). */
  writeEncoded(ndjson: readonly Buffer[]): Promise<void> {
    if (ndjson.length === 0) return Promise.resolve();
    const last = ndjson.length - 1;
    for (let i = 0; i < last; i++) this.out.write(ndjson[i]);
    return new Promise((resolve, reject) => {
      this.out.write(ndjson[last], (err) => (err ? reject(err) : resolve()));
    });
  }

  async deliver(batch: Batch): Promise<void> {
    try {
      if (batch.records.length > 0) await this.write(batch.records);
      batch.ack.delivered();
    } catch (err) {
      batch.ack.settle({ status: 'rejected', reason: (err as Error).message });
      throw err;
    }
  }
}
