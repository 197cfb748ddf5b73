// Aggregate statistics over parsed records for `sluice parse --stats`: counts per format,
// level, status and class, parse failures with their first line numbers, top values, first
// and last timestamp. Top-value counters are bounded (Misra-Gries), so memory does not grow
// with the number of distinct paths or addresses.

import type { LogRecord } from '../record/record.js';
import type { AccessFacts } from './access-stats.js';
import { scanAccess } from './access-stats.js';
import type { AccessByteFacts } from './access-bytes.js';
import { levelFromStatus } from './level.js';
import { isoMs } from './time.js';

/** Slots of the byte index: a power of two, at least twice the capacity. */
function indexSlots(capacity: number): number {
  let n = 1024;
  while (n < capacity * 2) n *= 2;
  return n;
}

/** FNV-1a over char codes (ASCII keys: the same value as over their bytes). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h | 0;
}

/** The hash TopCounter.addBytes() indexes values by (the access worker computes it ahead). */
export function hashBytes(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], 16777619);
  // An int32 (the empty value's hash is the offset basis, above 2^31), as the index stores.
  return h | 0;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Buffer's own Latin-1 reader (the keys read with it are ASCII); toString checks each call. */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Counts values, keeping at most `capacity` of them; exact while fewer are distinct. Values
 * come as strings (add) or as ASCII byte ranges of a line (addBytes, the access fast path,
 * which then makes no string for values already counted); both reach the same entries.
 */
export class TopCounter {
  /** Entry → value and count; `byValue` maps back; freed entries are reused. */
  private readonly keys: string[] = [];
  /** At most `capacity` entries exist at once (insert() shrinks first). */
  private readonly counts: Float64Array;
  private readonly hashes: Int32Array;
  private readonly free: number[] = [];
  private readonly byValue = new Map<string, number>();
  /**
   * Open addressing over ASCII values: per slot the value's hash and entry + 1 (0 empty),
   * side by side so that a probe reads one cache line.
   */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** True once values had to be dropped: the counts are then lower bounds. */
  approximate = false;

  constructor(private readonly capacity = 20_000) {
    const n = indexSlots(capacity);
    this.slots = new Int32Array(2 * n);
    this.mask = n - 1;
    this.counts = new Float64Array(capacity);
    this.hashes = new Int32Array(capacity);
  }

  add(value: string): void {
    const e = this.byValue.get(value);
    if (e !== undefined) {
      this.counts[e]++;
      return;
    }
    // A slice of a line keeps the whole 1 MiB decoded chunk it came from alive; the concat
    // then substr makes V8 copy the value into a string of its own.
    this.insert((' ' + value).substring(1), isAscii(value) ? hashString(value) : undefined);
  }

  /** add() for the ASCII text in buf[from, to); `h` its hashBytes() when known. */
  addBytes(buf: Buffer, from: number, to: number, h = hashBytes(buf, from, to)): void {
    const n = to - from;
    const slots = this.slots;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const e = slots[2 * slot + 1] - 1;
      if (e < 0) break;
      if (slots[2 * slot] !== h) continue;
      const key = this.keys[e];
      if (key.length !== n) continue;
      let i = 0;
      while (i < n && key.charCodeAt(i) === buf[from + i]) i++;
      if (i === n) {
        this.counts[e]++;
        return;
      }
    }
    // Every ASCII value counted is in the index: this one is new.
    this.insert((buf as Latin1Buffer).latin1Slice(from, to), h);
  }

  /** A new value with count 1; `hash` for ASCII values, which the byte index holds. */
  private insert(value: string, hash: number | undefined): void {
    if (this.byValue.size >= this.capacity) this.shrink();
    const e = this.free.pop() ?? this.keys.length;
    this.keys[e] = value;
    this.counts[e] = 1;
    this.byValue.set(value, e);
    this.hashes[e] = hash ?? 0;
    if (hash !== undefined) this.index(e, hash);
  }

  private index(e: number, hash: number): void {
    let slot = hash & this.mask;
    while (this.slots[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = e + 1;
  }

  /** Misra-Gries step: take the smallest count off every entry and drop those left at zero. */
  private shrink(): void {
    this.approximate = true;
    let min = Infinity;
    for (const e of this.byValue.values()) if (this.counts[e] < min) min = this.counts[e];
    this.slots.fill(0);
    for (const [k, e] of this.byValue) {
      if (this.counts[e] <= min) {
        this.byValue.delete(k);
        this.free.push(e);
      } else {
        this.counts[e] -= min;
        if (isAscii(k)) this.index(e, this.hashes[e]);
      }
    }
  }

  top(n: number): Array<{ value: string; count: number }> {
    return [...this.byValue]
      .map(([value, e]): [string, number] => [value, this.counts[e]])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([value, count]) => ({ value, count }));
  }
}

export interface Failure {
  line: number;
  source?: string;
  reason: string;
}

export interface StatsReport {
  lines: number;
  records: number;
  bytes: number;
  elapsed_ms: number;
  lines_per_second: number;
  bytes_per_second: number;
  formats: Record<string, number>;
  failures: { count: number; first: Failure[] };
  levels: Record<string, number>;
  statuses: Record<string, number>;
  status_classes: Record<string, number>;
  top: Record<string, Array<{ value: string; count: number }>>;
  top_approximate: string[];
  first_timestamp?: string;
  last_timestamp?: string;
}

function bump(o: Record<string, number>, k: string): void {
  o[k] = (o[k] ?? 0) + 1;
}

export class ParseStats {
  lines = 0;
  records = 0;
  bytes = 0;
  private readonly formats: Record<string, number> = {};
  private readonly levels: Record<string, number> = {};
  private readonly statusCounts = new Array<number>(1000).fill(0);
  private failures = 0;
  private readonly firstFailures: Failure[] = [];
  private readonly paths = new TopCounter();
  private readonly ips = new TopCounter();
  private readonly hosts = new TopCounter();
  private readonly services = new TopCounter();
  private first: string | undefined;
  private last: string | undefined;
  private firstMs = Infinity;
  private lastMs = -Infinity;
  private readonly facts: AccessFacts = {
    combined: false,
    epochMs: 0,
    status: 0,
    clientIp: '',
    path: undefined,
  };

  /**
   * Counts a plain access-log line without building its record; false (nothing counted) when
   * the line needs the full parser.
   */
  addAccessLine(line: string): boolean {
    const f = this.facts;
    if (!scanAccess(line, f)) return false;
    this.addAccessFacts(f);
    return true;
  }

  /** Counts an access line from what the byte-level fast path read of it (AccessBytes). */
  addAccessBytes(buf: Buffer, f: AccessByteFacts): void {
    this.records++;
    bump(this.formats, f.combined ? 'apache_combined' : 'apache_common');
    bump(this.levels, levelFromStatus(f.status));
    if (f.status >= 0 && f.status < 1000) this.statusCounts[f.status]++;
    if (f.hashed) {
      if (f.pathStart >= 0) this.paths.addBytes(buf, f.pathStart, f.pathEnd, f.pathHash);
      this.ips.addBytes(buf, f.clientStart, f.clientEnd, f.clientHash);
    } else {
      if (f.pathStart >= 0) this.paths.addBytes(buf, f.pathStart, f.pathEnd);
      this.ips.addBytes(buf, f.clientStart, f.clientEnd);
    }
    if (f.epochMs < this.firstMs) this.firstMs = f.epochMs;
    if (f.epochMs > this.lastMs) this.lastMs = f.epochMs;
  }

  private addAccessFacts(f: AccessFacts): void {
    this.records++;
    bump(this.formats, f.combined ? 'apache_combined' : 'apache_common');
    bump(this.levels, levelFromStatus(f.status));
    if (f.status >= 0 && f.status < 1000) this.statusCounts[f.status]++;
    if (f.path !== undefined) this.paths.add(f.path);
    this.ips.add(f.clientIp);
    if (f.epochMs < this.firstMs) this.firstMs = f.epochMs;
    if (f.epochMs > this.lastMs) this.lastMs = f.epochMs;
  }
  private readonly started = performance.now();

  /** Counts one record; `line` is its line number in `source` for failure reports. */
  add(rec: LogRecord, line: number, source?: string): void {
    this.records++;
    bump(this.formats, rec.format);
    bump(this.levels, rec.level);
    if (rec.parse_error !== undefined) {
      this.failures++;
      if (this.firstFailures.length < 5) {
        const f: Failure = { line, reason: rec.parse_error };
        if (source !== undefined) f.source = source;
        this.firstFailures.push(f);
      }
    }
    const http = rec.http;
    if (http !== undefined) {
      const s = http.status;
      if (s !== undefined && s >= 0 && s < 1000) this.statusCounts[s]++;
      if (http.path !== undefined) this.paths.add(http.path);
      if (http.client_ip !== undefined) this.ips.add(http.client_ip);
    }
    if (rec.host !== undefined) this.hosts.add(rec.host);
    if (rec.service !== undefined) this.services.add(rec.service);
    // An unparsed line's time is the reading time, not the event's: leave it out.
    if (rec.parse_error !== undefined) return;
    const ts = rec.timestamp;
    // Timestamps share one fixed-width format, so string order is time order.
    if (this.first === undefined || ts < this.first) this.first = ts;
    if (this.last === undefined || ts > this.last) this.last = ts;
  }

  report(topN: number): StatsReport {
    const elapsed = performance.now() - this.started;
    const statuses: Record<string, number> = {};
    const classes: Record<string, number> = {};
    for (let s = 0; s < 1000; s++) {
      const c = this.statusCounts[s];
      if (c === 0) continue;
      statuses[String(s)] = c;
      const cls = `${Math.floor(s / 100)}xx`;
      classes[cls] = (classes[cls] ?? 0) + c;
    }
    const counters = { paths: this.paths, client_ips: this.ips, hosts: this.hosts };
    const all = { ...counters, services: this.services };
    const top: StatsReport['top'] = {};
    const approx: string[] = [];
    for (const [name, c] of Object.entries(all)) {
      top[name] = c.top(topN);
      if (c.approximate) approx.push(name);
    }
    const seconds = Math.max(elapsed, 1) / 1000;
    const report: StatsReport = {
      lines: this.lines,
      records: this.records,
      bytes: this.bytes,
      elapsed_ms: Math.round(elapsed),
      lines_per_second: Math.round(this.lines / seconds),
      bytes_per_second: Math.round(this.bytes / seconds),
      formats: this.formats,
      failures: { count: this.failures, first: this.firstFailures },
      levels: this.levels,
      statuses,
      status_classes: classes,
      top,
      top_approximate: approx,
    };
    let first = this.first;
    let last = this.last;
    if (this.firstMs !== Infinity) {
      const a = isoMs(this.firstMs, 0);
      const z = isoMs(this.lastMs, 0);
      if (first === undefined || a < first) first = a;
      if (last === undefined || z > last) last = z;
    }
    if (first !== undefined) report.first_timestamp = first;
    if (last !== undefined) report.last_timestamp = last;
    return report;
  }
}

function table(rows: Array<[string, string]>, indent = '  '): string {
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`).join('\n');
}

function countRows(o: Record<string, number>, total: number): Array<[string, string]> {
  return Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, `${String(v).padStart(12)}  ${pct(v, total)}`]);
}

function pct(v: number, total: number): string {
  return total > 0 ? `${((v / total) * 100).toFixed(1).padStart(5)}%` : '';
}

/** The report as an aligned, human-readable table. */
export function formatStatsTable(r: StatsReport): string {
  const out: string[] = [];
  out.push('Input');
  out.push(
    table([
      ['lines', String(r.lines)],
      ['records', String(r.records)],
      ['bytes', String(r.bytes)],
      ['first timestamp', r.first_timestamp ?? '-'],
      ['last timestamp', r.last_timestamp ?? '-'],
      ['elapsed', `${(r.elapsed_ms / 1000).toFixed(3)} s`],
      ['rate', `${r.lines_per_second} lines/s, ${(r.bytes_per_second / 1e6).toFixed(1)} MB/s`],
    ]),
  );
  out.push('Formats');
  out.push(table(countRows(r.formats, r.records)));
  out.push(`Parse failures: ${r.failures.count}`);
  if (r.failures.first.length > 0) {
    out.push(
      table(
        r.failures.first.map((f) => [
          `${f.source !== undefined ? f.source + ':' : 'line '}${f.line}`,
          f.reason,
        ]),
      ),
    );
  }
  out.push('Levels');
  out.push(table(countRows(r.levels, r.records)));
  if (Object.keys(r.statuses).length > 0) {
    out.push('HTTP status classes');
    out.push(table(countRows(r.status_classes, r.records)));
    out.push('HTTP statuses');
    out.push(table(countRows(r.statuses, r.records)));
  }
  for (const [name, rows] of Object.entries(r.top)) {
    if (rows.length === 0) continue;
    const approx = r.top_approximate.includes(name) ? ' (approximate)' : '';
    out.push(`Top ${name.replace('_', ' ')}${approx}`);
    out.push(table(rows.map((x) => [String(x.count).padStart(12), x.value])));
  }
  return out.join('\n') + '\n';
}
