// The batch-files sink: each batch becomes one NDJSON file in a folder, written to a hidden
// temp file, fsynced, then renamed into place and the folder fsynced. A reader listing
// `*.ndjson` never sees a half-written batch, and a delivered batch survives a crash.

import { mkdirSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';
import type { Batch } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { counter } from '../telemetry/metrics.js';
import { encodeNdjson } from './ndjson.js';

const batchesTotal = counter('sluice_batch_files_batches_total', 'Batch files written');
const recordsTotal = counter('sluice_batch_files_records_total', 'Records written to batch files');

export class BatchFileSink {
  private seq = 0;

  constructor(readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new IoError(`--out ${dir}: cannot create the folder (${(err as Error).message}).`);
    }
  }

  /**
   * Writes the records as one file; resolves with its path once it is durable. `key` names a
   * batch that may be written again after a crash (`<time>-<batch identity>`): the repeat
   * then replaces the file of the same name instead of adding a second copy.
   */
  async write(records: readonly LogRecord[], key?: string): Promise<string> {
    return this.writeEncoded([encodeNdjson(records)], records.length, key);
  }

  /** As write(), for records already encoded as NDJSON (pieces written in order). */
  async writeEncoded(ndjson: readonly Buffer[], count: number, key?: string): Promise<string> {
    // Time first, so that names sort in write order across restarts of the process.
    const name = key
      ? `batch-${key}.ndjson`
      : `batch-${Date.now()}-${process.pid}-${String(++this.seq).padStart(6, '0')}.ndjson`;
    const path = join(this.dir, name);
    const temp = join(this.dir, `.${name}.tmp`);
    try {
      const handle = await open(temp, 'w');
      try {
        await writeAll(handle, ndjson);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      const dirHandle = await open(this.dir, 'r');
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch (err) {
      throw new IoError(`--out ${this.dir}: cannot write ${name} (${(err as Error).message}).`);
    }
    batchesTotal.inc();
    recordsTotal.inc(count);
    return path;
  }

  /** Writes a batch and settles its acknowledgement: delivered, or rejected with the error. */
  async deliver(batch: Batch): Promise<void> {
    if (batch.records.length === 0) {
      batch.ack.delivered();
      return;
    }
    try {
      await this.write(batch.records);
      batch.ack.delivered();
    } catch (err) {
      batch.ack.settle({ status: 'rejected', reason: (err as Error).message });
      throw err;
    }
  }
}

/** Writes every piece, looping over short writes (writev may take fewer bytes than given). */
async function writeAll(handle: FileHandle, pieces: readonly Buffer[]): Promise<void> {
  let rest = pieces.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    const next: Buffer[] = [];
    for (const piece of rest) {
      if (bytesWritten >= piece.length) bytesWritten -= piece.length;
      else {
        next.push(piece.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}
