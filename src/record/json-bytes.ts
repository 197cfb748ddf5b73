// Records as NDJSON bytes, written straight into large Buffers. The output is byte-identical to
// `encodeRecord(rec) + '\n'` in UTF-8 (test/record/json-bytes.test.ts checks it), but builds no
// string per field or record: string concatenation made one short-lived rope node per field
// and a flattening copy per output chunk, which cost more than parsing the line did.

import type { HttpFields, JsonValue, LogRecord, SyslogFields } from './record.js';
import { FORMATS, LEVELS } from './record.js';

/** Buffer's own UTF-8 writer; Buffer#write reaches it through argument checks per call. */
interface Utf8Writable extends Buffer {
  utf8Write(s: string, offset: number): number;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
const HEX = '0123456789abcdef';
/** From this length on, a native copy plus a byte scan beats a charCodeAt loop (measured). */
const NATIVE_COPY_CHARS = 12;
/** 1 for bytes that send a string to the careful path: controls, `"`, `\\`, non-ASCII. */
const SPECIAL_BYTE = new Uint8Array(256).map((_, c) =>
  c < 0x20 || c >= 0x80 || c === 34 || c === 92 ? 1 : 0,
);

/** Field names with their punctuation, as bytes; written by a short copy loop. */
function key(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

const K_TIMESTAMP = key('{"timestamp":"');
const K_LEVEL = key('","level":"');
const K_SEVERITY = key('","severity":');
const K_MESSAGE = key(',"message":');
const K_HOST = key(',"host":');
const K_SERVICE = key(',"service":');
const K_PID = key(',"pid":');
const K_FORMAT = key(',"format":"');
const K_SOURCE = key(',"source":');
const K_HTTP = key(',"http":');
const K_SYSLOG = key(',"syslog":');
const K_FIELDS = key(',"fields":');
const K_TAGS = key(',"tags":');
const K_RAW = key(',"raw":');
const K_PARSE_ERROR = key(',"parse_error":');
const K_NULL = key('null');
const K_TRUE = key('true');
const K_FALSE = key('false');

/** `","level":"info","severity":` and so on, per level. */
const LEVEL_BYTES = new Map<string, Uint8Array>(
  LEVELS.map((l) => [l, key(`","level":"${l}","severity":`)]),
);
/** `,"format":"json"` and so on, per format. */
const FORMAT_BYTES = new Map<string, Uint8Array>(FORMATS.map((f) => [f, key(`,"format":"${f}"`)]));

const HTTP_KEYS = {
  client_ip: key('"client_ip":'),
  remote_user: key('"remote_user":'),
  method: key('"method":'),
  path: key('"path":'),
  query: key('"query":'),
  protocol: key('"protocol":'),
  request: key('"request":'),
  status: key('"status":'),
  bytes: key('"bytes":'),
  referrer: key('"referrer":'),
  user_agent: key('"user_agent":'),
};

const SYSLOG_KEYS = {
  facility: key('"facility":'),
  facility_code: key('"facility_code":'),
  severity_code: key('"severity_code":'),
  msgid: key('"msgid":'),
  structured_data: key('"structured_data":'),
};

/**
 * Encodes records into Buffers of about `chunkBytes` and hands each full one to `emit`. Call
 * `take()` to get what is pending (at the end, or before waiting on the consumer).
 */
export class RecordBytesWriter {
  private buf: Utf8Writable;
  private pos = 0;
  private firstMember = true;
  /** Where the current record's message was written, for sameAsMessage(). */
  private message = '';
  private messageBuf: Buffer | undefined;
  private messageStart = 0;
  private messageEnd = 0;

  constructor(
    private readonly emit: (chunk: Buffer) => void,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafeSlow(chunkBytes) as Utf8Writable;
  }

  /** Bytes encoded and not yet handed to `emit`. */
  get pendingBytes(): number {
    return this.pos;
  }

  /** Appends one record and a newline. */
  add(rec: LogRecord): void {
    this.room(64);
    this.bytes(K_TIMESTAMP);
    this.plain(rec.timestamp);
    const level = LEVEL_BYTES.get(rec.level);
    if (level !== undefined) this.bytes(level);
    else {
      this.bytes(K_LEVEL);
      this.plain(rec.level);
      this.bytes(K_SEVERITY);
    }
    this.number(rec.severity);
    this.bytes(K_MESSAGE);
    this.message = rec.message;
    this.messageBuf = this.buf;
    this.messageStart = this.pos;
    this.str(rec.message);
    this.messageEnd = this.pos;
    if (rec.host !== undefined) this.field(K_HOST, rec.host);
    if (rec.service !== undefined) this.field(K_SERVICE, rec.service);
    if (rec.pid !== undefined) {
      this.bytes(K_PID);
      this.number(rec.pid);
    }
    const format = FORMAT_BYTES.get(rec.format);
    if (format !== undefined) this.bytes(format);
    else {
      this.bytes(K_FORMAT);
      this.plain(rec.format);
      this.byte(34);
    }
    if (rec.source !== undefined) this.field(K_SOURCE, rec.source);
    if (rec.http !== undefined) {
      this.bytes(K_HTTP);
      this.http(rec.http);
    }
    if (rec.syslog !== undefined) {
      this.bytes(K_SYSLOG);
      this.syslog(rec.syslog);
    }
    if (rec.fields !== undefined) {
      this.bytes(K_FIELDS);
      this.value(rec.fields);
    }
    if (rec.tags !== undefined) {
      this.bytes(K_TAGS);
      this.value(rec.tags);
    }
    if (rec.raw !== undefined) this.field(K_RAW, rec.raw);
    if (rec.parse_error !== undefined) this.field(K_PARSE_ERROR, rec.parse_error);
    this.room(2);
    this.buf[this.pos++] = 125;
    this.buf[this.pos++] = 10;
    if (this.pos >= this.chunkBytes) this.handOver();
  }

  /** The encoded bytes not yet handed over (a view; the writer continues in a new Buffer). */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafeSlow(this.chunkBytes) as Utf8Writable;
    this.pos = 0;
    return out;
  }

  private handOver(): void {
    const out = this.take();
    if (out !== undefined) this.emit(out);
  }

  /** Makes room for `n` more bytes: hands over what is there, grows for one huge value. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.handOver();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(n) as Utf8Writable;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private bytes(k: Uint8Array): void {
    const n = k.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = k[i];
    this.pos = p;
  }

  private field(k: Uint8Array, v: string): void {
    this.bytes(k);
    this.str(v);
  }

  private http(h: HttpFields): void {
    this.open();
    if (h.client_ip !== undefined) this.member(HTTP_KEYS.client_ip, h.client_ip);
    if (h.remote_user !== undefined) this.member(HTTP_KEYS.remote_user, h.remote_user);
    if (h.method !== undefined) this.member(HTTP_KEYS.method, h.method);
    if (h.path !== undefined) this.member(HTTP_KEYS.path, h.path);
    if (h.query !== undefined) this.member(HTTP_KEYS.query, h.query);
    if (h.protocol !== undefined) this.member(HTTP_KEYS.protocol, h.protocol);
    if (h.request !== undefined) {
      this.name(HTTP_KEYS.request);
      this.sameAsMessage(h.request);
    }
    if (h.status !== undefined) this.numberMember(HTTP_KEYS.status, h.status);
    if (h.bytes !== undefined) this.numberMember(HTTP_KEYS.bytes, h.bytes);
    if (h.referrer !== undefined) this.member(HTTP_KEYS.referrer, h.referrer);
    if (h.user_agent !== undefined) this.member(HTTP_KEYS.user_agent, h.user_agent);
    this.byte(125);
  }

  private syslog(y: SyslogFields): void {
    this.open();
    if (y.facility !== undefined) this.member(SYSLOG_KEYS.facility, y.facility);
    // encodeRecord writes these two with String() (no null for NaN); so does this.
    if (y.facility_code !== undefined) {
      this.name(SYSLOG_KEYS.facility_code);
      this.plain(String(y.facility_code));
    }
    if (y.severity_code !== undefined) {
      this.name(SYSLOG_KEYS.severity_code);
      this.plain(String(y.severity_code));
    }
    if (y.msgid !== undefined) this.member(SYSLOG_KEYS.msgid, y.msgid);
    if (y.structured_data !== undefined) {
      this.name(SYSLOG_KEYS.structured_data);
      this.value(y.structured_data as Record<string, JsonValue>);
    }
    this.byte(125);
  }

  /** Starts an object of fixed members (http, syslog); they are never nested in each other. */
  private open(): void {
    this.byte(123);
    this.firstMember = true;
  }

  /** A member name with the comma before it when it is not the first. */
  private name(k: Uint8Array): void {
    if (this.firstMember) this.firstMember = false;
    else this.byte(44);
    this.bytes(k);
  }

  private member(k: Uint8Array, v: string): void {
    this.name(k);
    this.str(v);
  }

  /**
   * A string that is often the record's message (access logs: the request line): the bytes
   * written for the message are copied instead of encoding the text again.
   */
  private sameAsMessage(s: string): void {
    const n = this.messageEnd - this.messageStart;
    if (s === this.message && this.messageBuf === this.buf) {
      this.room(n);
      // A hand-over inside room() leaves the message in the previous buffer.
      if (this.messageBuf === this.buf) {
        this.buf.copyWithin(this.pos, this.messageStart, this.messageEnd);
        this.pos += n;
        return;
      }
    }
    this.str(s);
  }

  private numberMember(k: Uint8Array, v: number): void {
    this.name(k);
    this.number(v);
  }

  /** Any JSON value as encodeValue writes it. */
  private value(v: JsonValue | undefined): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        return this.number(v);
      case 'bigint':
        return this.plain(v.toString());
      case 'boolean':
        return this.bytes(v ? K_TRUE : K_FALSE);
      case 'object': {
        if (v === null) return this.bytes(K_NULL);
        if (Array.isArray(v)) {
          this.byte(91);
          for (let i = 0; i < v.length; i++) {
            if (i > 0) this.byte(44);
            const m = v[i] as JsonValue | undefined;
            if (m === undefined) this.bytes(K_NULL);
            else this.value(m);
          }
          return this.byte(93);
        }
        this.byte(123);
        let first = true;
        for (const k in v) {
          const m = v[k] as JsonValue | undefined;
          if (m === undefined) continue;
          if (!first) this.byte(44);
          first = false;
          this.str(k);
          this.byte(58);
          this.value(m);
        }
        return this.byte(125);
      }
      default:
        return this.bytes(K_NULL);
    }
  }

  private number(n: number): void {
    if (n >= 0 && n < 1e9 && (n | 0) === n) {
      this.room(10);
      this.uint(n);
    } else if (Number.isFinite(n)) {
      this.plain(String(n));
    } else {
      this.bytes(K_NULL);
    }
  }

  /** A non-negative integer below 1e9, digit by digit. */
  private uint(n: number): void {
    const b = this.buf;
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = (n / 10) | 0;
      b[--p] = 48 + n - q * 10;
      n = q;
    } while (n > 0);
  }

  /** Text written without escaping (as encodeRecord does for timestamp, level, format). */
  private plain(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
    // Buffer's UTF-8 writer also turns a lone surrogate into U+FFFD, as Buffer.from does.
    if (n >= NATIVE_COPY_CHARS) {
      this.pos += b.utf8Write(s, this.pos);
      return;
    }
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else {
        this.pos = p;
        i = this.wide(s, i, c, false);
        p = this.pos;
      }
    }
    this.pos = p;
  }

  /** A JSON string literal, escaped exactly as JSON.stringify escapes. */
  private str(s: string): void {
    const n = s.length;
    // Worst case: every code unit becomes a six-byte \u escape.
    this.room(n * 6 + 2);
    const b = this.buf;
    const start = this.pos;
    b[start] = 34;
    // Long strings: a native UTF-8 copy, then a byte scan for anything JSON would escape (or
    // any non-ASCII byte, which may hide a lone surrogate); only then the careful path.
    if (n >= NATIVE_COPY_CHARS) {
      const end = start + 1 + b.utf8Write(s, start + 1);
      let special = 0;
      for (let i = start + 1; i < end; i++) special |= SPECIAL_BYTE[b[i]];
      if (special === 0) {
        b[end] = 34;
        this.pos = end + 1;
        return;
      }
    }
    let p = start + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x80 && c !== 34 && c !== 92) {
        b[p++] = c;
        continue;
      }
      this.pos = p;
      if (c < 0x80) this.escapeAscii(c);
      else i = this.wide(s, i, c, true);
      p = this.pos;
    }
    b[p++] = 34;
    this.pos = p;
  }

  private escapeAscii(c: number): void {
    const b = this.buf;
    let p = this.pos;
    b[p++] = 92;
    switch (c) {
      case 34:
      case 92:
        b[p++] = c;
        break;
      case 8:
        b[p++] = 98;
        break;
      case 9:
        b[p++] = 116;
        break;
      case 10:
        b[p++] = 110;
        break;
      case 12:
        b[p++] = 102;
        break;
      case 13:
        b[p++] = 114;
        break;
      default:
        p = this.unicodeEscape(p, c);
    }
    this.pos = p;
  }

  /** `u` and four lower-case hex digits (the `\` is already written). */
  private unicodeEscape(p: number, c: number): number {
    const b = this.buf;
    b[p++] = 117;
    b[p++] = HEX.charCodeAt((c >> 12) & 15);
    b[p++] = HEX.charCodeAt((c >> 8) & 15);
    b[p++] = HEX.charCodeAt((c >> 4) & 15);
    b[p++] = HEX.charCodeAt(c & 15);
    return p;
  }

  /**
   * UTF-8 for the code unit `c` >= 0x80 at `i`; returns the index of the last unit used. A lone
   * surrogate is `\udxxx` inside a JSON string (as JSON.stringify writes it) and U+FFFD in plain
   * text (as Buffer.from(text, 'utf8') writes it).
   */
  private wide(s: string, i: number, c: number, escaped: boolean): number {
    const b = this.buf;
    let p = this.pos;
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else if (c < 0xd800 || c > 0xdfff) {
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
    } else {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 63);
        b[p++] = 0x80 | ((cp >> 6) & 63);
        b[p++] = 0x80 | (cp & 63);
        i++;
      } else if (escaped) {
        b[p++] = 92;
        p = this.unicodeEscape(p, c);
      } else {
        b[p++] = 0xef;
        b[p++] = 0xbf;
        b[p++] = 0xbd;
      }
    }
    this.pos = p;
    return i;
  }
}
