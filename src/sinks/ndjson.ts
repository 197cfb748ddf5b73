// Records as one NDJSON Buffer, for sinks that write a batch in one piece (batch files,
// stdout). The bytes come from RecordBytesWriter, which writes each field straight into large
// Buffers: building one JSON string per record and converting it to UTF-8 made a short-lived
// rope per record and cost more than parsing the lines (a quarter of capture's time in GC).

import { RecordBytesWriter } from '../record/json-bytes.js';
import type { LogRecord } from '../record/record.js';

const CHUNK_BYTES = 1 << 20;
const chunks: Buffer[] = [];
/** One writer for the process: its chunks are recycled once copied out. */
let writer: RecordBytesWriter | undefined;

/** Encodes the records as NDJSON (one record per line, each ending in a newline). */
export function encodeNdjson(records: readonly LogRecord[]): Buffer {
  writer ??= new RecordBytesWriter((chunk) => chunks.push(chunk), CHUNK_BYTES);
  for (let i = 0; i < records.length; i++) writer.add(records[i]);
  const last = writer.take();
  if (last !== undefined) chunks.push(last);
  // A copy, so the caller owns its bytes while the writer's chunks are reused at once.
  const out = Buffer.concat(chunks);
  for (const chunk of chunks) writer.recycle(chunk);
  chunks.length = 0;
  return out;
}
