// Turns one batch of records into one block: the NDJSON payload, its time range and the
// per-level/service/day counts for the segment index, in a single pass over the records.
// The payload goes straight into one Buffer (one UTF-8 write per record, no concatenation),
// taken from a small pool that the writer refills once a block's write has returned, so a
// steady stream of appends does not allocate (and make V8 collect) megabytes per batch.

import { InputError } from '../errors.js';
import { RecordBytesWriter } from '../record/json-bytes.js';
import { isLevel, type LogRecord } from '../record/record.js';
import { BLOCK_FLAG_SORTED, type BlockMeta } from './format.js';
import { emptyLevels, type BatchFacts } from './segment-index.js';

export interface EncodedBatch {
  payload: Buffer;
  meta: BlockMeta;
  facts: BatchFacts;
}

// Record times are read from their digits when they have the normalized shape
// (YYYY-MM-DDTHH:MM:SS.mmmZ): Date.parse, or even a startsWith against the previous record's
// second, cost more than the rest of a record's bookkeeping. The day's epoch ms is cached, as
// consecutive records usually share the day. Anything else goes to Date.parse, whose result
// the digit path equals (test/store/encode.test.ts compares them).
let cachedDayKey = -1;
let cachedDayMs = 0;

/** The two-digit number at `i`, or -1 when either character is not a digit. */
function twoDigits(ts: string, i: number): number {
  const a = ts.charCodeAt(i) - 48;
  const b = ts.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Epoch ms of a record timestamp; NaN when it is not a time. */
export function timestampMs(ts: string): number {
  if (
    ts.length === 24 &&
    ts.charCodeAt(4) === 45 && // -
    ts.charCodeAt(7) === 45 &&
    ts.charCodeAt(10) === 84 && // T
    ts.charCodeAt(13) === 58 && // :
    ts.charCodeAt(16) === 58 &&
    ts.charCodeAt(19) === 46 && // .
    ts.charCodeAt(23) === 90 // Z
  ) {
    const c = twoDigits(ts, 0);
    const y = twoDigits(ts, 2);
    const mo = twoDigits(ts, 5);
    const d = twoDigits(ts, 8);
    const h = twoDigits(ts, 11);
    const mi = twoDigits(ts, 14);
    const sec = twoDigits(ts, 17);
    const ms1 = twoDigits(ts, 20);
    const ms2 = ts.charCodeAt(22) - 48;
    if (
      c >= 10 &&
      y >= 0 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= 31 &&
      h >= 0 &&
      h <= 23 &&
      mi >= 0 &&
      mi <= 59 &&
      sec >= 0 &&
      sec <= 59 &&
      ms1 >= 0 &&
      ms2 >= 0 &&
      ms2 <= 9
    ) {
      const year = c * 100 + y;
      const dayKey = (year * 16 + mo) * 32 + d;
      if (dayKey !== cachedDayKey) {
        cachedDayMs = Date.UTC(year, mo - 1, d);
        cachedDayKey = dayKey;
      }
      return cachedDayMs + ((h * 60 + mi) * 60 + sec) * 1000 + ms1 * 10 + ms2;
    }
  }
  return Date.parse(ts);
}

// --- payload buffers ---------------------------------------------------------------------------

const POOL_SIZE = 24;
/** Bytes the pool may keep in all, and per buffer: a rare huge batch should not pin memory. */
const POOL_MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const POOL_MAX_BYTES = 16 * 1024 * 1024;
const MIN_BUFFER_BYTES = 64 * 1024;
const pool: Buffer[] = [];
let pooledBytes = 0;

/** The smallest pooled buffer of at least `bytes`, or a new one. */
function takeBuffer(bytes: number): Buffer {
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    if (pool[i].length >= bytes && (best < 0 || pool[i].length < pool[best].length)) best = i;
  }
  if (best < 0) return Buffer.allocUnsafeSlow(Math.max(bytes, MIN_BUFFER_BYTES));
  const b = pool[best];
  pool[best] = pool[pool.length - 1];
  pool.pop();
  pooledBytes -= b.length;
  return b;
}

/**
 * Gives a payload's memory back for reuse. Only for payloads from encodeBatch whose bytes
 * nobody reads any more (the writer calls it once the write has returned).
 */
export function releasePayload(payload: Buffer): void {
  const bytes = payload.buffer.byteLength;
  // Own memory only: Node's shared slab for small buffers is far below MIN_BUFFER_BYTES.
  if (bytes < MIN_BUFFER_BYTES || bytes > POOL_MAX_BYTES || pool.length >= POOL_SIZE) return;
  if (pooledBytes + bytes > POOL_MAX_TOTAL_BYTES) return;
  pool.push(Buffer.from(payload.buffer, 0, bytes));
  pooledBytes += bytes;
}

// --- encoding ----------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
let avgLineBytes = 256;

/** The payload of the block being encoded: a pooled buffer that grows as bytes come in. */
class Payload {
  at = 0;
  constructor(public buf: Buffer) {}

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = takeBuffer(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    releasePayload(this.buf);
    this.buf = bigger;
  }

  bytes(chunk: Buffer): void {
    this.room(chunk.length);
    this.at += chunk.copy(this.buf, this.at);
  }

  line(text: string): void {
    this.room(text.length * 3 + 1);
    this.at += this.buf.write(text, this.at, 'utf8');
    this.buf[this.at++] = 10;
  }
}

// Records are encoded by the byte writer of src/record/json-bytes.ts (byte-identical to
// encodeRecord + LF, without a string per field or record: measured ~2.2 instead of ~2.7 us
// per syslog record, and less garbage), whose chunks are copied into the payload as they fill.
// encodeBatch is synchronous, so one writer and one current payload serve every call.
let current: Payload | undefined;
const recordBytes = new RecordBytesWriter((chunk) => {
  (current as Payload).bytes(chunk);
  recordBytes.recycle(chunk);
});

/** Moves what the byte writer holds into the current payload (or drops it with `keep` false). */
function drainRecordBytes(keep = true): void {
  const pending = recordBytes.take();
  if (pending === undefined) return;
  if (keep) (current as Payload).bytes(pending);
  recordBytes.recycle(pending);
}

/**
 * `lines[i]`, when given, is records[i] already encoded as one JSON object (no newline) by a
 * caller that checked it reads back as that record (the collector's NDJSON pass-through); it is
 * stored as is instead of being encoded again.
 */
export function encodeBatch(
  records: LogRecord[],
  batchIds: string[],
  lines?: ReadonlyArray<string | undefined>,
): EncodedBatch {
  const levels = emptyLevels();
  const services = new Map<string, number>();
  const days = new Map<string, number>();
  let minTs = Infinity;
  let maxTs = -Infinity;
  const out = new Payload(takeBuffer(Math.ceil(records.length * avgLineBytes * 1.25) + 4096));
  current = out;
  // Runs of one day and of one service are counted, and looked up once per run.
  let dayStart = NaN;
  let dayCount = 0;
  let service: string | undefined;
  let serviceCount = 0;
  let sorted = true;
  try {
    for (let i = 0; i < records.length; i++) {
      const rec = records[i];
      const ts = typeof rec.timestamp === 'string' ? timestampMs(rec.timestamp) : NaN;
      if (!Number.isFinite(ts)) {
        throw new InputError(
          `record ${i} of the batch: timestamp ${JSON.stringify(rec.timestamp)} is not a time`,
        );
      }
      if (ts < minTs) minTs = ts;
      if (ts < maxTs) sorted = false;
      else maxTs = ts;
      const line = lines?.[i];
      if (line === undefined) recordBytes.add(rec);
      else {
        drainRecordBytes();
        out.line(line);
      }
      if (isLevel(rec.level)) levels[rec.level]++;
      if (rec.service !== service) {
        if (service !== undefined) addCount(services, service, serviceCount);
        service = rec.service;
        serviceCount = 0;
      }
      serviceCount++;
      if (!(ts >= dayStart && ts < dayStart + DAY_MS)) {
        if (dayCount > 0) addCount(days, utcDay(dayStart), dayCount);
        dayStart = ts - (((ts % DAY_MS) + DAY_MS) % DAY_MS);
        dayCount = 0;
      }
      dayCount++;
    }
    drainRecordBytes();
  } catch (err) {
    // Nothing of a failed batch may reach the next one's payload.
    drainRecordBytes(false);
    releasePayload(out.buf);
    throw err;
  } finally {
    current = undefined;
  }
  const at = out.at;
  if (dayCount > 0) addCount(days, utcDay(dayStart), dayCount);
  if (service !== undefined) addCount(services, service, serviceCount);
  const payload = out.buf.subarray(0, at);
  if (records.length > 0) avgLineBytes = Math.ceil(at / records.length);
  return {
    payload,
    meta: {
      records: records.length,
      flags: sorted ? BLOCK_FLAG_SORTED : 0,
      minTs: records.length ? minTs : 0,
      maxTs: records.length ? maxTs : 0,
      rawBytes: payload.length,
      batchIds,
    },
    facts: { levels, services, days },
  };
}

function addCount(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
