// The redact transform: finds patient identifiers in a record's message and in every string
// field (nested fields, http.*, syslog structured data, raw) and replaces them with a mask or
// a keyed pseudonym. A changed record gets the `redacted` tag; matches are counted per kind
// in sluice_redact_matches_total{kind}. Records are changed in place: the transform sits in
// a pipeline that owns them, and copying every record would halve throughput.

import type { JsonValue, LogRecord } from '../../record/record.js';
import { ConfigError } from '../../errors.js';
import { counter } from '../../telemetry/metrics.js';
import { hipaaDetectors, type Detector, type Span } from './detectors.js';
import { createKeyRules, type KeyRules } from './keys.js';
import { createPseudonymiser, mask, type RedactMode } from './pseudonym.js';
import type { CompiledRules } from './rules.js';
import { applySpans, findSpans } from './scan.js';

export const REDACTED_TAG = 'redacted';

const matchesTotal = counter(
  'sluice_redact_matches_total',
  'Identifiers replaced by the redact transform, by kind.',
  ['kind'],
);
const recordsTotal = counter(
  'sluice_redact_records_total',
  'Records the redact transform changed (each also carries the redacted tag).',
);

export interface RedactorOptions {
  /** Built-in detectors: `hipaa` (default) or `none` (only rules-file patterns). */
  preset?: 'hipaa' | 'none';
  /** Compiled rules file; its preset and mode apply unless given here. */
  rules?: CompiledRules;
  /** `mask` (default) writes [REDACTED:KIND]; `hash` writes a keyed pseudonym. */
  mode?: RedactMode;
  /** HMAC key for `hash` mode. */
  key?: Buffer;
}

export interface RedactTextResult {
  text: string;
  /** Spans found, in the coordinates of the input string. */
  spans: Span[];
}

export interface Redactor {
  readonly mode: RedactMode;
  /** Redacts one string; `spans` say what was replaced. */
  redactText(text: string): RedactTextResult;
  /** Redacts a record in place and returns it. */
  redactRecord(record: LogRecord): LogRecord;
  /** Redacts every record of a batch in place and returns the same array. */
  redactBatch(records: LogRecord[]): LogRecord[];
  /**
   * What redactRecord would replace, without changing the record: one entry per string it
   * would change, with its dotted path (`message`, `http.path`, `fields.a.b`, `fields.tags.0`,
   * `syslog.structured_data.ID.KEY`). For scoring recall and precision against ground truth.
   */
  inspectRecord(record: LogRecord): FieldSpans[];
}

/** The spans one field would lose; `whole` when its key names an identifier. */
export interface FieldSpans {
  path: string;
  value: string;
  spans: Span[];
  whole: boolean;
}

/** A per-call tally, flushed to the metrics once per record or batch rather than per match. */
class Tally {
  readonly counts = new Map<string, number>();
  records = 0;
  add(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
  flush(): void {
    for (const [kind, n] of this.counts) matchesTotal.inc({ kind }, n);
    this.counts.clear();
    if (this.records > 0) recordsTotal.inc(this.records);
    this.records = 0;
  }
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const rules = options.rules;
  const preset = options.preset ?? rules?.preset ?? 'hipaa';
  const mode = options.mode ?? rules?.mode ?? 'mask';
  if (mode === 'hash' && !options.key) {
    throw new ConfigError('redact: --redact-mode hash needs --redact-key FILE (the HMAC key).');
  }
  const disabled = rules?.disabled ?? new Set<string>();
  const detectors: Detector[] = [
    ...(preset === 'hipaa' ? hipaaDetectors(disabled) : []),
    ...(rules?.detectors ?? []),
  ];
  const keys = createKeyRules({
    builtin: preset === 'hipaa',
    disabled,
    extra: rules?.keys ?? [],
    skip: rules?.skipKeys ?? [],
  });
  const replace = mode === 'hash' && options.key ? createPseudonymiser(options.key) : mask;
  const walker = new Walker(detectors, keys, replace);
  const inspected: FieldSpans[] = [];
  const inspector = new Walker(detectors, keys, replace, inspected);

  return {
    mode,
    redactText(text) {
      const spans = findSpans(text, detectors);
      return { text: spans.length ? applySpans(text, spans, replace) : text, spans };
    },
    redactRecord(record) {
      walker.record(record);
      walker.tally.flush();
      return record;
    },
    redactBatch(records) {
      for (const r of records) walker.record(r);
      walker.tally.flush();
      return records;
    },
    inspectRecord(record) {
      inspected.length = 0;
      inspector.record(record);
      return inspected.splice(0);
    },
  };
}

class Walker {
  readonly tally = new Tally();
  private changed = false;

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly keys: KeyRules,
    private readonly replace: (kind: string, value: string) => string,
    /** When given, nothing is changed: what would be is appended here instead. */
    private readonly inspected?: FieldSpans[],
  ) {}

  record(r: LogRecord): void {
    this.changed = false;
    r.message = this.text(r.message, 'message');
    if (r.raw !== undefined) r.raw = this.text(r.raw, 'raw');
    if (r.parse_error !== undefined) r.parse_error = this.text(r.parse_error, 'parse_error');
    if (r.http) this.object(r.http as Record<string, JsonValue>, 'http');
    if (r.syslog) {
      if (r.syslog.msgid !== undefined) r.syslog.msgid = this.text(r.syslog.msgid, 'msgid');
      if (r.syslog.structured_data) {
        this.object(r.syslog.structured_data, 'syslog.structured_data');
      }
    }
    if (r.fields) this.object(r.fields, 'fields');
    if (this.changed && !this.inspected) {
      this.tally.records++;
      if (!r.tags) r.tags = [REDACTED_TAG];
      else if (!r.tags.includes(REDACTED_TAG)) r.tags.push(REDACTED_TAG);
    }
  }

  private text(value: string, path: string): string {
    const spans = findSpans(value, this.detectors);
    if (spans.length === 0) return value;
    if (this.inspected) {
      this.inspected.push({ path, value, spans, whole: false });
      return value;
    }
    this.changed = true;
    for (const s of spans) this.tally.add(s.kind);
    return applySpans(value, spans, this.replace);
  }

  /** A field whose key names an identifier is replaced whole; other values are scanned. */
  private object(obj: Record<string, JsonValue>, path: string): void {
    // for-in: no key array per object; records are plain objects without inherited keys.
    for (const key in obj) {
      const value = obj[key] as JsonValue;
      if (value === null || typeof value === 'boolean') continue;
      if (this.keys.skips(key)) continue;
      const kind = this.keys.kindOf(key);
      if (kind !== undefined && typeof value !== 'object') {
        if (value === '') continue;
        obj[key] = this.whole(kind, value, this.inspected ? `${path}.${key}` : path);
      } else if (typeof value === 'string') {
        obj[key] = this.text(value, this.inspected ? `${path}.${key}` : path);
      } else if (Array.isArray(value)) {
        this.array(value, kind, this.inspected ? `${path}.${key}` : path);
      } else if (typeof value === 'object') {
        this.object(value, this.inspected ? `${path}.${key}` : path);
      }
    }
  }

  private array(arr: JsonValue[], kind: string | undefined, path: string): void {
    for (let i = 0; i < arr.length; i++) {
      const value = arr[i] as JsonValue;
      const at = this.inspected ? `${path}.${i}` : path;
      if (kind !== undefined && (typeof value === 'string' || typeof value === 'number')) {
        arr[i] = this.whole(kind, value, at);
      } else if (typeof value === 'string') arr[i] = this.text(value, at);
      else if (Array.isArray(value)) this.array(value, kind, at);
      else if (value !== null && typeof value === 'object') this.object(value, at);
    }
  }

  /** A value replaced whole because its key names an identifier. */
  private whole(kind: string, value: string | number | bigint, path: string): JsonValue {
    const text = String(value);
    if (this.inspected) {
      this.inspected.push({
        path,
        value: text,
        spans: [{ start: 0, end: text.length, kind }],
        whole: true,
      });
      return value;
    }
    this.changed = true;
    this.tally.add(kind);
    return this.replace(kind, text);
  }
}
