// Child process for the crash test: appends records FROM..TOTAL-1 in fixed batches (batch k
// holds records k*BATCH .. k*BATCH+BATCH-1, id "b<k>") and prints "durable K" on stdout each
// time batch K is durable, "done" at the end. The parent kills it with SIGKILL at will.

import { openStoreWriter } from '../../src/store/index.js';
import type { LogRecord } from '../../src/record/record.js';

const [dir, fromText, totalText, batchText] = process.argv.slice(2);
const from = Number(fromText);
const total = Number(totalText);
const batch = Number(batchText);
const base = Date.parse('2026-03-01T00:00:00.000Z');

function record(seq: number): LogRecord {
  return {
    timestamp: new Date(base + seq).toISOString(),
    level: seq % 7 === 0 ? 'warn' : 'info',
    severity: seq % 7 === 0 ? 13 : 9,
    message: `request ${seq} served`,
    service: `svc${seq % 5}`,
    format: 'json',
    fields: { seq },
  };
}

const writer = await openStoreWriter(dir, {
  segmentSizeBytes: 4 * 1024 * 1024,
  fsync: 'interval',
  fsyncIntervalMs: 20,
});
const inFlight: Array<Promise<unknown>> = [];
for (let k = Math.floor(from / batch); k * batch < total; k++) {
  const recs: LogRecord[] = [];
  for (let s = k * batch; s < Math.min(total, (k + 1) * batch); s++) recs.push(record(s));
  inFlight.push(
    writer.append(recs, { batchId: `b${k}` }).then(() => process.stdout.write(`durable ${k}\n`)),
  );
  if (inFlight.length >= 16) await inFlight.shift();
}
await Promise.all(inFlight);
await writer.close();
process.stdout.write('done\n');
