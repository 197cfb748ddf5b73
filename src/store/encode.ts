// Turns one batch of records into one block: the NDJSON payload, its time range and the
// per-level/service/day counts for the segment index, in a single pass over the records.

import { InputError } from '../errors.js';
import { encodeRecord } from '../record/json.js';
import { isLevel, type LogRecord } from '../record/record.js';
import type { BlockMeta } from './format.js';
import { emptyLevels, type BatchFacts } from './segment-index.js';

export interface EncodedBatch {
  payload: Buffer;
  meta: BlockMeta;
  facts: BatchFacts;
}

// Consecutive records usually share the second, so its Date.parse is reused.
let lastPrefix = '';
let lastPrefixMs = 0;

/** Epoch ms of a record timestamp; NaN when it is not a time. */
export function timestampMs(ts: string): number {
  if (ts.length === 24 && ts.charCodeAt(23) === 90 && ts.charCodeAt(19) === 46) {
    if (ts.startsWith(lastPrefix) && lastPrefix.length === 19) {
      const ms = +ts.slice(20, 23);
      if (ms >= 0) return lastPrefixMs + ms;
    }
    const whole = Date.parse(ts);
    if (Number.isFinite(whole)) {
      lastPrefix = ts.slice(0, 19);
      lastPrefixMs = whole - (whole % 1000);
    }
    return whole;
  }
  return Date.parse(ts);
}

let avgLineBytes = 256;

export function encodeBatch(records: LogRecord[], batchIds: string[]): EncodedBatch {
  const levels = emptyLevels();
  const services = new Map<string, number>();
  const days = new Map<string, number>();
  let minTs = Infinity;
  let maxTs = -Infinity;
  // Lines are written straight into one buffer: one UTF-8 pass, no string concatenation.
  let buf = Buffer.allocUnsafe(Math.max(4096, records.length * avgLineBytes * 1.25));
  let at = 0;
  let day = '';
  let dayCount = 0;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    const ts = typeof rec.timestamp === 'string' ? timestampMs(rec.timestamp) : NaN;
    if (!Number.isFinite(ts)) {
      throw new InputError(
        `record ${i} of the batch: timestamp ${JSON.stringify(rec.timestamp)} is not a time`,
      );
    }
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
    const line = encodeRecord(rec);
    if (at + line.length * 3 + 1 > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + line.length * 3 + 1));
      buf.copy(bigger, 0, 0, at);
      buf = bigger;
    }
    at += buf.write(line, at, 'utf8');
    buf[at++] = 10;
    if (isLevel(rec.level)) levels[rec.level]++;
    if (rec.service !== undefined) services.set(rec.service, (services.get(rec.service) ?? 0) + 1);
    const d = rec.timestamp.endsWith('Z')
      ? rec.timestamp.slice(0, 10)
      : new Date(ts).toISOString().slice(0, 10);
    if (d !== day) {
      if (dayCount > 0) days.set(day, (days.get(day) ?? 0) + dayCount);
      day = d;
      dayCount = 0;
    }
    dayCount++;
  }
  if (dayCount > 0) days.set(day, (days.get(day) ?? 0) + dayCount);
  const payload = buf.subarray(0, at);
  if (records.length > 0) avgLineBytes = Math.ceil(at / records.length);
  return {
    payload,
    meta: {
      records: records.length,
      flags: 0,
      minTs: records.length ? minTs : 0,
      maxTs: records.length ? maxTs : 0,
      rawBytes: payload.length,
      batchIds,
    },
    facts: { levels, services, days },
  };
}
