// Records as NDJSON bytes, written straight into large Buffers. The output is byte-identical to
// `encodeRecord(rec) + '\n'` in UTF-8 (test/record/json-bytes.test.ts checks it), but builds no
// string per field or record: string concatenation made one short-lived rope node per field
// and a flattening copy per output chunk, which cost more than parsing the line did.
//
// The writers below take the buffer and a position and return the new position; the caller
// has made room beforehand (one check for a record's flat fields, from their lengths).

import type { HttpFields, JsonValue, LogRecord, SyslogFields } from './record.js';
import { FORMATS, LEVELS } from './record.js';

/** Buffer's own UTF-8 writer; Buffer#write reaches it through argument checks per call. */
interface Utf8Writable extends Buffer {
  utf8Write(s: string, offset: number): number;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
const MAX_POOLED_CHUNKS = 4;
const HEX = '0123456789abcdef';
/** From this length on, a native copy plus a byte scan beats a charCodeAt loop (measured). */
const NATIVE_COPY_CHARS = 12;
/** 1 for bytes that send a string to the careful path: controls, `"`, `\\`, non-ASCII. */
const SPECIAL_BYTE = new Uint8Array(256).map((_, c) =>
  c < 0x20 || c >= 0x80 || c === 34 || c === 92 ? 1 : 0,
);
/** Bytes a record needs besides its strings' (keys, quotes, numbers), with a wide margin. */
const RECORD_OVERHEAD_BYTES = 1024;

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
const K_HTTP = key(',"http":{');
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

// Member names with a leading comma; the first member of an object skips it.
const H_CLIENT_IP = key(',"client_ip":');
const H_REMOTE_USER = key(',"remote_user":');
const H_METHOD = key(',"method":');
const H_PATH = key(',"path":');
const H_QUERY = key(',"query":');
const H_PROTOCOL = key(',"protocol":');
const H_REQUEST = key(',"request":');
const H_STATUS = key(',"status":');
const H_BYTES = key(',"bytes":');
const H_REFERRER = key(',"referrer":');
const H_USER_AGENT = key(',"user_agent":');

const S_FACILITY = key(',"facility":');
const S_FACILITY_CODE = key(',"facility_code":');
const S_SEVERITY_CODE = key(',"severity_code":');
const S_MSGID = key(',"msgid":');
const S_STRUCTURED_DATA = key(',"structured_data":');

function copy(b: Uint8Array, p: number, k: Uint8Array): number {
  const n = k.length;
  for (let i = 0; i < n; i++) b[p++] = k[i];
  return p;
}

/** A member name: `p` is just after `{` for the first member, which has no comma. */
function member(b: Uint8Array, p: number, k: Uint8Array, first: boolean): number {
  const n = k.length;
  for (let i = first ? 1 : 0; i < n; i++) b[p++] = k[i];
  return p;
}

/** The length of an optional string, for room estimates. */
function len(s: string | undefined): number {
  return s === undefined ? 0 : s.length;
}

/** A number as String() writes it; non-finite numbers as null (encodeNumber). */
function writeNumber(b: Utf8Writable, p: number, n: number): number {
  if (n >= 0 && n < 1e9 && (n | 0) === n) {
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    const end = p + digits;
    let q = end;
    do {
      const d = (n / 10) | 0;
      b[--q] = 48 + n - d * 10;
      n = d;
    } while (n > 0);
    return end;
  }
  if (Number.isFinite(n)) return writePlain(b, p, String(n));
  return copy(b, p, K_NULL);
}

/** Text without escaping (as encodeRecord writes timestamp, level, format); room: 3 × length. */
function writePlain(b: Utf8Writable, p: number, s: string): number {
  const n = s.length;
  // Buffer's UTF-8 writer also turns a lone surrogate into U+FFFD, as Buffer.from does.
  if (n >= NATIVE_COPY_CHARS) return p + b.utf8Write(s, p);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else return p + b.utf8Write(s.slice(i), p);
  }
  return p;
}

let wordsOf: Uint8Array | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * Whether b[from, to) holds a byte JSON escapes or a non-ASCII byte. Four bytes at a time
 * (word tricks for "some byte is below 0x20 / equals 0x22 / equals 0x5c"; the high bit for
 * non-ASCII): about 1.6 times the speed of a byte-table loop (measured).
 */
function hasSpecialByte(b: Uint8Array, from: number, to: number): boolean {
  if (wordsOf !== b) {
    wordsOf = b;
    words = b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, b.length >> 2) : words;
  }
  let i = from;
  let special = 0;
  if (words.buffer !== b.buffer || words.byteOffset !== b.byteOffset) {
    for (; i < to; i++) special |= SPECIAL_BYTE[b[i]];
    return special !== 0;
  }
  const aligned = (from + 3) & ~3;
  for (; i < aligned && i < to; i++) special |= SPECIAL_BYTE[b[i]];
  const wordEnd = to >> 2;
  for (let j = i >> 2; j < wordEnd; j++) {
    const w = words[j];
    const q = w ^ 0x22222222;
    const bs = w ^ 0x5c5c5c5c;
    special |=
      (w | ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs)) &
      0x80808080;
  }
  for (i = Math.max(i, wordEnd << 2); i < to; i++) special |= SPECIAL_BYTE[b[i]];
  return special !== 0;
}

/** A JSON string literal, escaped exactly as JSON.stringify escapes; room: 6 × length + 2. */
function writeStr(b: Utf8Writable, p: number, s: string): number {
  const n = s.length;
  b[p] = 34;
  if (n >= NATIVE_COPY_CHARS) {
    // A native UTF-8 copy, then a byte scan for anything JSON would escape (or any non-ASCII
    // byte, which may hide a lone surrogate); only then the careful path.
    const end = p + 1 + b.utf8Write(s, p + 1);
    if (!hasSpecialByte(b, p + 1, end)) {
      b[end] = 34;
      return end + 1;
    }
    return writeStrCareful(b, p + 1, s, 0);
  }
  let q = p + 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80 && c !== 34 && c !== 92) b[q++] = c;
    else return writeStrCareful(b, q, s, i);
  }
  b[q] = 34;
  return q + 1;
}

/** The rest of a JSON string literal from code unit `from`, escaping as needed, and its `"`. */
function writeStrCareful(b: Utf8Writable, p: number, s: string, from: number): number {
  const n = s.length;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80 && c !== 34 && c !== 92) {
      b[p++] = c;
      continue;
    }
    if (c < 0x80) {
      b[p++] = 92;
      p = escapeAscii(b, p, c);
      continue;
    }
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else if (c < 0xd800 || c > 0xdfff) {
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
    } else {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 63);
        b[p++] = 0x80 | ((cp >> 6) & 63);
        b[p++] = 0x80 | (cp & 63);
        i++;
      } else {
        // A lone surrogate: JSON.stringify writes it as an escape.
        b[p++] = 92;
        p = unicodeEscape(b, p, c);
      }
    }
  }
  b[p] = 34;
  return p + 1;
}

/** The escape for an ASCII character after its `\`. */
function escapeAscii(b: Uint8Array, p: number, c: number): number {
  switch (c) {
    case 34:
    case 92:
      b[p] = c;
      return p + 1;
    case 8:
      b[p] = 98;
      return p + 1;
    case 9:
      b[p] = 116;
      return p + 1;
    case 10:
      b[p] = 110;
      return p + 1;
    case 12:
      b[p] = 102;
      return p + 1;
    case 13:
      b[p] = 114;
      return p + 1;
    default:
      return unicodeEscape(b, p, c);
  }
}

/** `u` and four lower-case hex digits (the `\` is already written). */
function unicodeEscape(b: Uint8Array, p: number, c: number): number {
  b[p++] = 117;
  b[p++] = HEX.charCodeAt((c >> 12) & 15);
  b[p++] = HEX.charCodeAt((c >> 8) & 15);
  b[p++] = HEX.charCodeAt((c >> 4) & 15);
  b[p++] = HEX.charCodeAt(c & 15);
  return p;
}

/** Room the flat part of a record needs: its strings at worst (6 bytes a unit) and the rest. */
function flatRoom(rec: LogRecord): number {
  let chars =
    rec.timestamp.length +
    rec.level.length +
    rec.message.length +
    rec.format.length +
    len(rec.host) +
    len(rec.service) +
    len(rec.source);
  const h = rec.http;
  if (h !== undefined) {
    chars +=
      len(h.client_ip) +
      len(h.remote_user) +
      len(h.method) +
      len(h.path) +
      len(h.query) +
      len(h.protocol) +
      len(h.request) +
      len(h.referrer) +
      len(h.user_agent);
  }
  return chars * 6 + RECORD_OVERHEAD_BYTES;
}

/** The http object, members in SCHEMA.md order. */
function writeHttp(
  b: Utf8Writable,
  p: number,
  h: HttpFields,
  message: string,
  msgAt: number,
  msgEnd: number,
): number {
  const open = (p = copy(b, p, K_HTTP));
  if (h.client_ip !== undefined)
    p = writeStr(b, member(b, p, H_CLIENT_IP, p === open), h.client_ip);
  if (h.remote_user !== undefined) {
    p = writeStr(b, member(b, p, H_REMOTE_USER, p === open), h.remote_user);
  }
  if (h.method !== undefined) p = writeStr(b, member(b, p, H_METHOD, p === open), h.method);
  if (h.path !== undefined) p = writeStr(b, member(b, p, H_PATH, p === open), h.path);
  if (h.query !== undefined) p = writeStr(b, member(b, p, H_QUERY, p === open), h.query);
  if (h.protocol !== undefined) p = writeStr(b, member(b, p, H_PROTOCOL, p === open), h.protocol);
  if (h.request !== undefined) {
    p = member(b, p, H_REQUEST, p === open);
    // Access logs: the request is the message; copy the bytes already written for it.
    if (h.request === message) {
      b.copyWithin(p, msgAt, msgEnd);
      p += msgEnd - msgAt;
    } else p = writeStr(b, p, h.request);
  }
  if (h.status !== undefined) p = writeNumber(b, member(b, p, H_STATUS, p === open), h.status);
  if (h.bytes !== undefined) p = writeNumber(b, member(b, p, H_BYTES, p === open), h.bytes);
  if (h.referrer !== undefined) p = writeStr(b, member(b, p, H_REFERRER, p === open), h.referrer);
  if (h.user_agent !== undefined) {
    p = writeStr(b, member(b, p, H_USER_AGENT, p === open), h.user_agent);
  }
  b[p] = 125;
  return p + 1;
}

/**
 * Encodes records into Buffers of about `chunkBytes` and hands each full one to `emit`. Call
 * `take()` to get what is pending (at the end, or before waiting on the consumer).
 */
export class RecordBytesWriter {
  private buf: Utf8Writable;
  private pos = 0;
  /** Buffers given back by recycle(), reused before allocating new ones. */
  private readonly pool: Utf8Writable[] = [];

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
    this.room(flatRoom(rec));
    const b = this.buf;
    let p = copy(b, this.pos, K_TIMESTAMP);
    p = writePlain(b, p, rec.timestamp);
    const level = LEVEL_BYTES.get(rec.level);
    if (level !== undefined) p = copy(b, p, level);
    else p = copy(b, writePlain(b, copy(b, p, K_LEVEL), rec.level), K_SEVERITY);
    p = writeNumber(b, p, rec.severity);
    p = copy(b, p, K_MESSAGE);
    const msgAt = p;
    p = writeStr(b, p, rec.message);
    const msgEnd = p;
    if (rec.host !== undefined) p = writeStr(b, copy(b, p, K_HOST), rec.host);
    if (rec.service !== undefined) p = writeStr(b, copy(b, p, K_SERVICE), rec.service);
    if (rec.pid !== undefined) p = writeNumber(b, copy(b, p, K_PID), rec.pid);
    const format = FORMAT_BYTES.get(rec.format);
    if (format !== undefined) p = copy(b, p, format);
    else {
      p = writePlain(b, copy(b, p, K_FORMAT), rec.format);
      b[p++] = 34;
    }
    if (rec.source !== undefined) p = writeStr(b, copy(b, p, K_SOURCE), rec.source);
    if (rec.http !== undefined) p = writeHttp(b, p, rec.http, rec.message, msgAt, msgEnd);
    this.pos = p;
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

  /**
   * For encoders that write bytes themselves (src/parse/access-bytes.ts): makes room for `n`
   * bytes and returns the Buffer to write into from `pendingBytes` on; then call commit().
   */
  reserve(n: number): Buffer {
    this.room(n);
    return this.buf;
  }

  /** Ends a reserve(): the bytes written reach index `end` (one record or more, whole). */
  commit(end: number): void {
    this.pos = end;
    if (end >= this.chunkBytes) this.handOver();
  }

  /** Appends whole records encoded elsewhere (NDJSON bytes), copied in. */
  append(bytes: Uint8Array): void {
    let from = 0;
    while (from < bytes.length) {
      if (this.pos >= this.buf.length) this.handOver();
      const n = Math.min(bytes.length - from, this.buf.length - this.pos);
      this.buf.set(bytes.subarray(from, from + n), this.pos);
      this.pos += n;
      from += n;
    }
    if (this.pos >= this.chunkBytes) this.handOver();
  }

  /** The encoded bytes not yet handed over (a view; the writer continues in a new Buffer). */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.pool.pop() ?? (Buffer.allocUnsafeSlow(this.chunkBytes) as Utf8Writable);
    this.pos = 0;
    return out;
  }

  /**
   * Gives back a chunk from emit()/take() once its consumer is done with it (a stream's write
   * callback), so that its memory is reused: fresh 256 KiB Buffers are external memory that
   * the collector frees late, and they raised peak RSS by tens of MB.
   */
  recycle(chunk: Buffer): void {
    const whole = chunk.buffer;
    if (whole.byteLength !== this.chunkBytes || this.pool.length >= MAX_POOLED_CHUNKS) return;
    this.pool.push(Buffer.from(whole, 0, this.chunkBytes) as Utf8Writable);
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

  private bytes(k: Uint8Array): void {
    this.room(k.length);
    this.pos = copy(this.buf, this.pos, k);
  }

  private str(s: string): void {
    this.room(s.length * 6 + 2);
    this.pos = writeStr(this.buf, this.pos, s);
  }

  private field(k: Uint8Array, v: string): void {
    this.bytes(k);
    this.str(v);
  }

  private syslog(y: SyslogFields): void {
    this.room(1);
    this.buf[this.pos++] = 123;
    const open = this.pos;
    const name = (k: Uint8Array) => {
      this.room(k.length);
      this.pos = member(this.buf, this.pos, k, this.pos === open);
    };
    if (y.facility !== undefined) {
      name(S_FACILITY);
      this.str(y.facility);
    }
    // encodeRecord writes these two with String() (no null for NaN); so does this.
    if (y.facility_code !== undefined) {
      name(S_FACILITY_CODE);
      this.plain(String(y.facility_code));
    }
    if (y.severity_code !== undefined) {
      name(S_SEVERITY_CODE);
      this.plain(String(y.severity_code));
    }
    if (y.msgid !== undefined) {
      name(S_MSGID);
      this.str(y.msgid);
    }
    if (y.structured_data !== undefined) {
      name(S_STRUCTURED_DATA);
      this.value(y.structured_data as Record<string, JsonValue>);
    }
    this.byte(125);
  }

  private byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  private plain(s: string): void {
    this.room(s.length * 3);
    this.pos = writePlain(this.buf, this.pos, s);
  }

  /** Any JSON value as encodeValue writes it. */
  private value(v: JsonValue | undefined): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        this.room(32);
        this.pos = writeNumber(this.buf, this.pos, v);
        return;
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
}
