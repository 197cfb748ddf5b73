// The stateful line parser: detects the format line by line (trying the previous line's format
// first), joins CRI `P`/`F` partials and Docker json-file chunks per stream, and parses the
// joined container text in turn. A push may emit no record (a partial is held); flush emits
// whatever is held.

import type { JsonValue, LogRecord } from '../record/record.js';
import type { FormatParser, ParseContext } from './context.js';
import type { ParseOptions } from './options.js';
import { DEFAULT_MAX_LINE_BYTES } from './options.js';
import { contextFor } from './context.js';
import { PARSERS, candidates } from './detect.js';
import { asDockerLine, readJsonObject, recordFromObject } from './json.js';
import type { DockerLine } from './json.js';
import { readCri } from './cri.js';
import { textRecord } from './text.js';
import { parseAccess } from './access.js';
import { timeValueToEpochMs } from './time.js';
import { optionError } from '../errors.js';
import { FORMATS } from '../record/record.js';

export interface LineParser {
  /** Parses one line (no newline) and appends 0 or more records to `out`. */
  push(line: string, out: LogRecord[]): void;
  /** Appends the records of any held partial container lines. */
  flush(out: LogRecord[]): void;
}

interface Held {
  parts: string[];
  bytes: number;
  epochMs: number;
  kind: 'docker' | 'cri';
  stream: string;
}

const NO_FORMAT = 'no supported format matched the line';

export class AutoLineParser implements LineParser {
  private readonly ctx: ParseContext;
  private last: FormatParser | undefined;
  private readonly forced: FormatParser | undefined;
  private readonly forcedName: string | undefined;
  private readonly held = new Map<string, Held>();
  private readonly maxBytes: number;

  constructor(private readonly opts: ParseOptions) {
    this.ctx = contextFor(opts);
    this.maxBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const f = opts.format ?? 'auto';
    if (f !== 'auto') {
      if (!(FORMATS as readonly string[]).includes(f)) {
        throw optionError('parse', '--format', f, `expected auto or one of ${FORMATS.join(', ')}`);
      }
      this.forcedName = f;
      this.forced = f === 'text' ? undefined : PARSERS[f];
    }
  }

  push(line: string, out: LogRecord[]): void {
    const refMs = this.ctx.now();
    const c = line.charCodeAt(0);
    // Container wrappers first: they carry another line inside.
    if (c === 123 && (this.forcedName === undefined || this.forcedName === 'json')) {
      const obj = readJsonObject(line);
      if (obj) {
        const docker = asDockerLine(obj);
        if (docker) this.pushDocker(docker, refMs, out);
        else this.emit(recordFromObject(obj, this.ctx, refMs), line, out);
        return;
      }
    } else if (c >= 48 && c <= 57 && this.forcedName === undefined) {
      const cri = readCri(line, this.ctx);
      if (cri) {
        this.pushContainer('cri', cri.stream, cri.text, !cri.partial, cri.epochMs, out);
        return;
      }
    }
    this.emit(this.parseText(line, refMs, this.forcedName !== undefined), line, out);
  }

  /**
   * Whether a line that parseAccess() accepts, starting with byte `c0` and with byte `c10` at
   * index 10, would get its record from parseAccess() here: a forced access format, or
   * detection that tries parseAccess() first (neither JSON nor a possible CRI line, and the
   * previous line was an access line, or nothing was detected yet and access comes first).
   * For fast paths that stand in for parseAccess(); they call sawAccess() after each line.
   */
  takesAccess(c0: number, c10: number): boolean {
    const f = this.forcedName;
    if (f !== undefined) return f === 'apache_common' || f === 'apache_combined';
    if (c0 === 123 || (c0 >= 48 && c0 <= 57 && c10 === 84)) return false;
    if (this.last === parseAccess) return true;
    return this.last === undefined && candidates(String.fromCharCode(c0))[0] === parseAccess;
  }

  /** A fast path gave the record of an access line: detection tries access first next. */
  sawAccess(): void {
    if (this.forcedName === undefined) this.last = parseAccess;
  }

  flush(out: LogRecord[]): void {
    for (const h of [...this.held.values()]) this.release(h, out);
    this.held.clear();
  }

  /** Parses a line that is not a container wrapper: forced format, or detection. */
  private parseText(line: string, refMs: number, forced: boolean): LogRecord {
    if (forced) {
      const rec = this.forced?.(line, this.ctx, refMs);
      if (rec) return rec;
      const why = this.forcedName === 'text' ? undefined : `not a ${this.forcedName} line`;
      return textRecord(line, this.ctx, refMs, why);
    }
    if (this.last) {
      const rec = this.last(line, this.ctx, refMs);
      if (rec) return rec;
    }
    for (const p of candidates(line)) {
      if (p === this.last) continue;
      const rec = p(line, this.ctx, refMs);
      if (rec) {
        this.last = p;
        return rec;
      }
    }
    return textRecord(line, this.ctx, refMs, NO_FORMAT);
  }

  private emit(rec: LogRecord, line: string, out: LogRecord[]): void {
    if (this.opts.keepRaw && rec.raw === undefined) rec.raw = line;
    if (this.opts.source !== undefined) rec.source = this.opts.source;
    out.push(rec);
  }

  private pushDocker(d: DockerLine, refMs: number, out: LogRecord[]): void {
    const t = d.time !== undefined ? timeValueToEpochMs(d.time, this.ctx.zone) : NaN;
    const epochMs = Number.isNaN(t) ? refMs : t;
    let text = d.log;
    // Docker ends every complete line with "\n"; a chunk without it continues in the next.
    const complete = text.endsWith('\n');
    if (complete) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
    this.pushContainer('docker', d.stream ?? 'stdout', text, complete, epochMs, out);
  }

  private pushContainer(
    kind: 'docker' | 'cri',
    stream: string,
    text: string,
    complete: boolean,
    epochMs: number,
    out: LogRecord[],
  ): void {
    const key = kind + ':' + stream;
    let h = this.held.get(key);
    if (!h && complete) {
      this.emitContainer(kind, stream, text, epochMs, false, out);
      return;
    }
    if (!h) {
      h = { parts: [], bytes: 0, epochMs, kind, stream };
      this.held.set(key, h);
    }
    h.parts.push(text);
    h.bytes += text.length;
    if (complete || h.bytes >= this.maxBytes) {
      this.held.delete(key);
      this.release(h, out);
    }
  }

  private release(h: Held, out: LogRecord[]): void {
    let text = h.parts.join('');
    const truncated = text.length > this.maxBytes;
    if (truncated) text = text.slice(0, this.maxBytes);
    this.emitContainer(h.kind, h.stream, text, h.epochMs, truncated, out);
  }

  /** Parses the text a container runtime wrapped; its own fields win, the stream is added. */
  private emitContainer(
    kind: 'docker' | 'cri',
    stream: string,
    text: string,
    epochMs: number,
    truncated: boolean,
    out: LogRecord[],
  ): void {
    let rec: LogRecord | undefined;
    const obj = text.charCodeAt(0) === 123 ? readJsonObject(text) : undefined;
    if (obj) rec = recordFromObject(obj, this.ctx, epochMs);
    else {
      rec = this.parseText(text, epochMs, false);
      if (rec.format === 'text') {
        // The wrapper itself parsed: the inner text is a message, not a failure.
        rec = textRecord(text, this.ctx, epochMs, undefined);
        rec.timestamp = new Date(epochMs).toISOString();
        if (kind === 'docker') rec.format = 'json';
      }
    }
    const fields: Record<string, JsonValue> = rec.fields ?? {};
    fields.stream = stream;
    if (truncated) fields.truncated = true;
    rec.fields = fields;
    this.emit(rec, text, out);
  }
}

export function createLineParser(opts: ParseOptions = {}): AutoLineParser {
  return new AutoLineParser(opts);
}

/** One line to one record, without state (no partial joining across calls). */
export function parseLine(line: string, opts: ParseOptions = {}): LogRecord {
  const p = createLineParser(opts);
  const out: LogRecord[] = [];
  p.push(line, out);
  p.flush(out);
  return out[0];
}

/** Marks a record whose line the framer cut at maxLineBytes (SCHEMA: `fields.truncated`). */
export function markTruncated(rec: LogRecord): void {
  (rec.fields ??= {}).truncated = true;
}
