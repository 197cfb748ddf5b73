// Reading and writing records as JSON. Writing is hand-ordered and skips absent fields (SCHEMA.md:
// never null or ""); reading keeps integers beyond 2^53 exact as bigint.

import { InputError } from '../errors.js';
import type { HttpFields, JsonValue, LogRecord, SyslogFields } from './record.js';
import { FORMATS, SEVERITY, isLevel } from './record.js';
import { recordFromObject } from '../parse/json.js';
import { contextFor } from '../parse/context.js';
import type { ParseOptions } from '../parse/options.js';

const stringify = JSON.stringify as (s: string) => string;

// Characters JSON must escape, and lone-surrogate candidates (JSON.stringify escapes those).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A JSON string literal. Most strings need no escaping, and one native regex test is cheaper
 * than a call into JSON.stringify (measured: about 1.7x on short strings).
 */
function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? stringify(s) : '"' + s + '"';
}

/** One record as one JSON object (no newline), fields in SCHEMA.md order. */
export function encodeRecord(rec: LogRecord): string {
  let s = '{"timestamp":"' + rec.timestamp + '","level":"' + rec.level + '","severity":';
  s += rec.severity + ',"message":' + str(rec.message);
  if (rec.host !== undefined) s += ',"host":' + str(rec.host);
  if (rec.service !== undefined) s += ',"service":' + str(rec.service);
  if (rec.pid !== undefined) s += ',"pid":' + encodeNumber(rec.pid);
  s += ',"format":"' + rec.format + '"';
  if (rec.source !== undefined) s += ',"source":' + str(rec.source);
  if (rec.http !== undefined) s += ',"http":' + encodeHttp(rec.http);
  if (rec.syslog !== undefined) s += ',"syslog":' + encodeSyslog(rec.syslog);
  if (rec.fields !== undefined) s += ',"fields":' + encodeValue(rec.fields);
  if (rec.tags !== undefined) s += ',"tags":' + encodeValue(rec.tags);
  if (rec.raw !== undefined) s += ',"raw":' + str(rec.raw);
  if (rec.parse_error !== undefined) s += ',"parse_error":' + str(rec.parse_error);
  return s + '}';
}

function encodeNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function encodeHttp(h: HttpFields): string {
  let s = '';
  if (h.client_ip !== undefined) s += ',"client_ip":' + str(h.client_ip);
  if (h.remote_user !== undefined) s += ',"remote_user":' + str(h.remote_user);
  if (h.method !== undefined) s += ',"method":' + str(h.method);
  if (h.path !== undefined) s += ',"path":' + str(h.path);
  if (h.query !== undefined) s += ',"query":' + str(h.query);
  if (h.protocol !== undefined) s += ',"protocol":' + str(h.protocol);
  if (h.request !== undefined) s += ',"request":' + str(h.request);
  if (h.status !== undefined) s += ',"status":' + encodeNumber(h.status);
  if (h.bytes !== undefined) s += ',"bytes":' + encodeNumber(h.bytes);
  if (h.referrer !== undefined) s += ',"referrer":' + str(h.referrer);
  if (h.user_agent !== undefined) s += ',"user_agent":' + str(h.user_agent);
  return s.length === 0 ? '{}' : '{' + s.slice(1) + '}';
}

function encodeSyslog(y: SyslogFields): string {
  let s = '';
  if (y.facility !== undefined) s += ',"facility":' + str(y.facility);
  if (y.facility_code !== undefined) s += ',"facility_code":' + y.facility_code;
  if (y.severity_code !== undefined) s += ',"severity_code":' + y.severity_code;
  if (y.msgid !== undefined) s += ',"msgid":' + str(y.msgid);
  if (y.structured_data !== undefined) {
    s += ',"structured_data":' + encodeValue(y.structured_data as Record<string, JsonValue>);
  }
  return s.length === 0 ? '{}' : '{' + s.slice(1) + '}';
}

/** Any JSON value, bigint written as its digits; undefined members are skipped. */
export function encodeValue(v: JsonValue | undefined): string {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return encodeNumber(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          s += v[i] === undefined ? 'null' : encodeValue(v[i]);
        }
        return s + ']';
      }
      let s = '';
      for (const k in v) {
        const m = v[k];
        if (m === undefined) continue;
        s += ',' + str(k) + ':' + encodeValue(m);
      }
      return s.length === 0 ? '{}' : '{' + s.slice(1) + '}';
    }
    default:
      return 'null';
  }
}

// A run of 16+ digits may be an integer beyond 2^53; only then is the exact reader needed.
const LONG_DIGITS = /\d{16}/;

/**
 * Parses JSON text like JSON.parse, except that integers beyond 2^53 become bigint. Throws
 * InputError naming the position of the problem.
 */
export function decodeJson(text: string): JsonValue {
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // Fall through: the exact reader reports where the text went wrong.
    }
  }
  return new ExactJsonReader(text).readDocument();
}

/** A small recursive-descent JSON reader that keeps big integers exact. */
class ExactJsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  readDocument(): JsonValue {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(what: string): never {
    throw new InputError(`invalid JSON at position ${this.i}: ${what}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else break;
    }
  }

  private value(depth: number): JsonValue {
    if (depth > 512) this.fail('nesting deeper than 512');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === 't' && this.s.startsWith('true', this.i)) return ((this.i += 4), true);
    if (c === 'f' && this.s.startsWith('false', this.i)) return ((this.i += 5), false);
    if (c === 'n' && this.s.startsWith('null', this.i)) return ((this.i += 4), null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail(c === undefined ? 'unexpected end of text' : `unexpected ${str(c)}`);
  }

  private object(depth: number): JsonValue {
    const out: Record<string, JsonValue> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') return (this.i++, out);
    for (;;) {
      if (this.s[this.i] !== '"') this.fail('expected a quoted key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      this.ws();
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i];
      if (c !== ',' && c !== '}') this.fail('expected "," or "}"');
      this.i++;
      if (c === '}') return out;
      this.ws();
    }
  }

  private array(depth: number): JsonValue {
    const out: JsonValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') return (this.i++, out);
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c !== ',' && c !== ']') this.fail('expected "," or "]"');
      this.i++;
      if (c === ']') return out;
      this.ws();
    }
  }

  private string(): string {
    const start = this.i;
    let j = start + 1;
    const s = this.s;
    for (;;) {
      if (j >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) j++;
      else if (c < 32) {
        this.i = j;
        this.fail('control character in string');
      }
      j++;
    }
    this.i = j + 1;
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      this.i = start;
      return this.fail('bad escape in string');
    }
  }

  private number(): JsonValue {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) return this.fail('bad number');
    this.i += r[0].length;
    const n = Number(r[0]);
    if (r[1] === undefined && r[2] === undefined && !Number.isSafeInteger(n)) return BigInt(r[0]);
    return n;
  }
}

const TIMESTAMP_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** True when `obj` already has every required field of a record with the right types. */
function isRecordShaped(obj: Record<string, JsonValue>): boolean {
  const { timestamp, level, severity, message, format } = obj;
  return (
    typeof timestamp === 'string' &&
    TIMESTAMP_RE.test(timestamp) &&
    isLevel(level) &&
    severity === SEVERITY[level] &&
    typeof message === 'string' &&
    typeof format === 'string' &&
    (FORMATS as readonly string[]).includes(format)
  );
}

/**
 * A JSON object from the wire or a file becomes a valid record: one that already is a record
 * passes through unchanged; anything else is read as the JSON parser reads a JSON log line.
 */
export function normalizeRecord(
  obj: Record<string, JsonValue>,
  opts: ParseOptions = {},
): LogRecord {
  if (isRecordShaped(obj)) return obj as unknown as LogRecord;
  const ctx = contextFor(opts);
  return recordFromObject(obj, ctx, ctx.now());
}
