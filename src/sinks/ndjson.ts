// Records as one NDJSON Buffer. Each record's JSON is written straight into a growing Buffer
// instead of concatenating one long string: a batch-sized rope of thousands of pieces costs a
// flattening copy and a separate UTF-8 conversion, which profiling showed costing as much as
// parsing the lines.

import { encodeRecord } from '../record/json.js';
import type { LogRecord } from '../record/record.js';

/** Encodes the records as NDJSON (one record per line, each ending in a newline). */
export function encodeNdjson(records: readonly LogRecord[], sizeHint = 0): Buffer {
  let buf: Buffer = Buffer.allocUnsafe(Math.max(4096, sizeHint, records.length * 256));
  let pos = 0;
  for (const rec of records) {
    const text = encodeRecord(rec);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; grow before writing so nothing is cut.
    const need = text.length * 3 + 1;
    if (pos + need > buf.length) buf = grow(buf, pos, pos + need);
    pos += buf.write(text, pos, 'utf8');
    buf[pos++] = 0x0a;
  }
  return buf.subarray(0, pos);
}

function grow(buf: Buffer, used: number, atLeast: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(atLeast, buf.length * 2));
  buf.copy(next, 0, 0, used);
  return next;
}
