// --stats, --top and --histogram: counts per level, the most frequent values of fields and
// counts per time bucket, gathered in bounded memory and printed once at the end, as text
// tables and bars or as one JSON document.

import { LEVELS, LEVEL_RANK, type LogRecord } from '../../record/record.js';
import type { Sink } from '../engine.js';
import { canonicalPath, fieldGetter } from '../expr/index.js';
import { escapeControl, escapeJsonText } from '../output/escape.js';
import { OutputWriter } from '../output/writer.js';
import { TimeHistogram } from './histogram.js';
import { TopK, DEFAULT_TOP_CAPACITY, type TopEntry } from './top-k.js';
import { ByteCounter } from './byte-counter.js';
import { levelFromStatus } from '../../parse/level.js';
import { rawRequestPath, type RawAccessLine } from '../probe/access-raw.js';

export interface StatsOptions {
  /** Print counts per level. */
  levels: boolean;
  /** Fields to report the most frequent values of. */
  top: string[];
  /** How many values --top reports per field. */
  topN: number;
  /** Counters kept per --top field (exact up to this many distinct values). */
  topCapacity?: number;
  /** Bucket width of --histogram. */
  histogramMs?: number;
  json: boolean;
  /** Width of the longest histogram bar, in characters. */
  barWidth?: number;
  writer?: OutputWriter;
}

interface TopField {
  path: string;
  /** The path in canonical form, for writeAccess. */
  canonical: string;
  get: (rec: LogRecord) => unknown;
  counter: TopK;
  missing: number;
  /** Counts values read off raw access lines (writeAccess). */
  bytes: ByteCounter;
}

/** --top fields that writeAccess reads off a raw access line. */
export const RAW_ACCESS_TOP_PATHS = new Set(['http.path', 'http.status', 'level']);

export class StatsSink implements Sink {
  readonly needsRecord = true;
  private matched = 0;
  private readonly levelCounts = new Array<number>(LEVELS.length).fill(0);
  private readonly tops: TopField[];
  private readonly histogram: TimeHistogram | undefined;
  private readonly writer: OutputWriter;

  private readonly span = { start: 0, end: 0 };

  constructor(private readonly options: StatsOptions) {
    this.tops = options.top.map((path) => {
      const capacity = options.topCapacity ?? DEFAULT_TOP_CAPACITY;
      const counter = new TopK(capacity);
      const bytes = new ByteCounter(counter, capacity);
      const canonical = canonicalPath(path);
      return { path, canonical, get: fieldGetter(path), counter, missing: 0, bytes };
    });
    this.histogram =
      options.histogramMs !== undefined ? new TimeHistogram(options.histogramMs) : undefined;
    this.writer = options.writer ?? new OutputWriter();
  }

  write(rec: LogRecord | undefined): void {
    if (rec === undefined) return;
    this.matched++;
    this.levelCounts[LEVEL_RANK[rec.level]]++;
    for (const t of this.tops) {
      const v = t.get(rec);
      if (v === undefined) t.missing++;
      else t.counter.add(typeof v === 'string' ? v : keyOf(v));
    }
    this.histogram?.add(Date.parse(rec.timestamp));
  }

  /**
   * One match read off a raw access line (probe/access-raw.ts): counted without a record. Only
   * for reports whose --top fields are in RAW_ACCESS_TOP_PATHS and without --histogram.
   */
  writeAccess(buf: Buffer, line: RawAccessLine): void {
    this.matched++;
    const level = levelFromStatus(line.status);
    this.levelCounts[LEVEL_RANK[level]]++;
    for (const t of this.tops) {
      if (t.canonical === 'http.path') {
        if (rawRequestPath(buf, line, this.span)) t.bytes.add(buf, this.span.start, this.span.end);
        else t.missing++;
      } else if (t.canonical === 'http.status') {
        const from = line.requestEnd + 2;
        if (line.status < 0) t.missing++;
        // Digits as written, unless a leading zero makes them differ from the number's text.
        else if (buf[from] === 48 && line.statusEnd - from > 1) t.counter.add(String(line.status));
        else t.bytes.add(buf, from, line.statusEnd);
      } else {
        t.counter.add(level);
      }
    }
  }

  async drain(): Promise<void> {}

  async end(): Promise<void> {
    for (const t of this.tops) t.bytes.flush();
    this.writer.write(this.options.json ? this.json() + '\n' : this.text());
    await this.writer.end();
  }

  /** The whole report as one JSON document. */
  report() {
    const share = (n: number) => (this.matched === 0 ? 0 : round(n / this.matched));
    const levels = Object.fromEntries(LEVELS.map((l, i) => [l, this.levelCounts[i]]));
    const top = Object.fromEntries(
      this.tops.map((t) => [
        t.path,
        {
          approximate: t.counter.approximate,
          missing: t.missing,
          values: t.counter.top(this.options.topN).map((e: TopEntry) => ({
            value: e.value,
            count: e.count,
            share: share(e.count),
            ...(t.counter.approximate ? { max_overcount: e.error } : {}),
          })),
        },
      ]),
    );
    const doc: Record<string, unknown> = { matched: this.matched };
    if (this.options.levels) doc.levels = levels;
    if (this.tops.length > 0) doc.top = top;
    if (this.histogram) {
      doc.histogram = {
        bucket_ms: this.histogram.bucketMs,
        buckets: this.histogram.buckets().map((b) => ({
          start: new Date(b.startMs).toISOString(),
          count: b.count,
        })),
      };
    }
    return doc;
  }

  private json(): string {
    return escapeJsonText(JSON.stringify(this.report()));
  }

  private text(): string {
    const lines: string[] = [`matched: ${this.matched}`];
    const pct = (n: number) =>
      this.matched === 0 ? '0.0%' : `${((100 * n) / this.matched).toFixed(1)}%`;
    if (this.options.levels) {
      lines.push('', 'level        count   share');
      LEVELS.forEach((l, i) => {
        const n = this.levelCounts[i];
        if (n > 0) lines.push(`${l.padEnd(9)} ${String(n).padStart(9)} ${pct(n).padStart(7)}`);
      });
    }
    for (const t of this.tops) {
      const approx = t.counter.approximate
        ? ` (approximate: more than ${this.options.topCapacity ?? DEFAULT_TOP_CAPACITY} ` +
          'distinct values; counts are upper bounds, see ±)'
        : '';
      lines.push('', `top ${t.path}${approx}`, '    count   share  value');
      for (const e of t.counter.top(this.options.topN)) {
        const err = t.counter.approximate ? ` ±${e.error}` : '';
        const value = escapeControl(e.value);
        lines.push(`${String(e.count).padStart(9)} ${pct(e.count).padStart(7)}  ${value}${err}`);
      }
      if (t.missing > 0)
        lines.push(`${String(t.missing).padStart(9)} ${pct(t.missing).padStart(7)}  (no value)`);
    }
    if (this.histogram) lines.push('', ...this.bars());
    return lines.join('\n') + '\n';
  }

  private bars(): string[] {
    const h = this.histogram as TimeHistogram;
    const buckets = h.buckets();
    const width = this.options.barWidth ?? 50;
    const max = Math.max(1, ...buckets.map((b) => b.count));
    const out = [`histogram (bucket ${formatWidth(h.bucketMs)})`];
    for (const b of buckets) {
      const len = Math.round((b.count / max) * width);
      const bar = '█'.repeat(len) || (b.count > 0 ? '▏' : '');
      out.push(`${new Date(b.startMs).toISOString()} ${String(b.count).padStart(9)} ${bar}`);
    }
    return out;
  }
}

function keyOf(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object' && v !== null) {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  }
  return String(v);
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function formatWidth(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
