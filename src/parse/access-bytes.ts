// The byte-level fast path for plain access-log lines: finds the fields of
// `client ident user [time] "request" status bytes ["referrer" "user-agent"]` in the input
// Buffer and writes the NDJSON record straight from those byte ranges, without decoding the
// line, building a record or encoding strings back to bytes.
//
// It takes only lines on which it is sure to agree with parseAccess() (src/parse/access.ts)
// and the record encoder (src/record/json-bytes.ts): printable ASCII without `\`, no quote
// outside the three quoted fields, three non-empty tokens before the time, nothing after the
// user agent, numbers of at most 9 digits. Anything else is declined and goes through the
// general path. test/parse/access-bytes.test.ts compares both paths byte for byte.

import type { Level } from '../record/record.js';
import { SEVERITY } from '../record/record.js';
import { levelFromStatus } from './level.js';
import { isoMs, readApacheTime } from './time.js';

/**
 * 0 ordinary printable byte, 1 a byte this path declines (controls, non-ASCII, `\`), 2 space,
 * 3 `"`.
 */
const CLASS = new Uint8Array(256).map((_, c) =>
  c === 32 ? 2 : c === 34 ? 3 : c < 0x20 || c >= 0x80 || c === 92 ? 1 : 0,
);
const TIME_BYTES = 26;
const ISO_BYTES = 24;
/** Longest digit run read here; longer numbers go through the general path. */
const MAX_DIGITS = 9;
/** findTime() looks for the time only this near the start of the line. */
const MAX_TIME_AT = 512;

/** Constant output bytes and their length, copied like the line's fields (see cp()). */
interface Bytes {
  readonly v: DataView;
  readonly n: number;
}

function bytes(text: string): Bytes {
  const b = Buffer.from(text, 'utf8');
  return { v: new DataView(b.buffer, b.byteOffset, b.length), n: b.length };
}

const B_REMOTE_USER = bytes('","remote_user":"');
const B_METHOD = bytes('","method":"');
const B_PATH = bytes('","path":"');
const B_QUERY = bytes('","query":"');
const B_PROTOCOL = bytes('","protocol":"');
const B_REQUEST = bytes('","request":"');
const B_STATUS = bytes('","status":');
const B_BYTES_AFTER_STR = bytes('","bytes":');
const B_BYTES_AFTER_NUM = bytes(',"bytes":');
const B_REFERRER = bytes(',"referrer":"');
const B_USER_AGENT = bytes(',"user_agent":"');
const B_RAW = bytes(',"raw":"');
const B_END_STR = bytes('"}');
const B_END_STR_STR = bytes('"}}');

const TIMESTAMP_KEY = '{"timestamp":"';

/**
 * `{"timestamp":"…","level":"info","severity":9,"message":"` for a level, with room for the
 * time text, which setTime() writes in place.
 */
class Prefix {
  private readonly buf: Buffer;
  readonly bytes: Bytes;

  constructor(level: Level) {
    const text =
      `${TIMESTAMP_KEY}${'0'.repeat(ISO_BYTES)}","level":"${level}",` +
      `"severity":${SEVERITY[level]},"message":"`;
    this.buf = Buffer.from(text, 'latin1');
    this.bytes = {
      v: new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length),
      n: this.buf.length,
    };
  }

  setTime(iso: string): void {
    for (let i = 0; i < ISO_BYTES; i++) this.buf[TIMESTAMP_KEY.length + i] = iso.charCodeAt(i);
  }
}

/**
 * Copies s[from, to) to o at q, eight bytes at a time through DataViews as float64 (about
 * three times the speed of a byte loop, and no call into C++ as Buffer#copy makes, which costs
 * more than copying these short fields); the last block overlaps the one before it, so no byte
 * outside the range is read. Exact: the bytes copied are printable ASCII (or, in the source
 * path, valid UTF-8 without controls), and no 8 such bytes spell a NaN, an infinity or a
 * subnormal (their top byte would have to be 0x7f/0xff with a byte >= 0xf0 after it in
 * memory order, or 0x00/0x80 with a byte < 0x10), so every value is a normal double, which
 * loads and stores keep bit for bit.
 */
function cp(o: DataView, q: number, s: DataView, from: number, to: number): number {
  const n = to - from;
  if (n >= 8) {
    const end = q + n;
    const last = to - 8;
    for (let i = from; i < last; i += 8, q += 8) o.setFloat64(q, s.getFloat64(i, true), true);
    o.setFloat64(end - 8, s.getFloat64(last, true), true);
    return end;
  }
  if (n >= 4) {
    o.setInt32(q, s.getInt32(from, true), true);
    o.setInt32(q + n - 4, s.getInt32(to - 4, true), true);
    return q + n;
  }
  for (let i = from; i < to; i++) o.setUint8(q++, s.getUint8(i));
  return q;
}

/** A whole constant. */
function k(o: DataView, q: number, c: Bytes): number {
  return cp(o, q, c.v, 0, c.n);
}

/** A DataView over `b`, kept while `b` is the same Buffer (a chunk holds thousands of lines). */
class ViewOf {
  private of: Uint8Array | undefined;
  view: DataView = new DataView(new ArrayBuffer(0));

  get(b: Uint8Array): DataView {
    if (b !== this.of) {
      this.of = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.view;
  }
}

/** Decimal digits of a non-negative integer below 1e9. */
function writeInt(o: DataView, q: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  const end = q + digits;
  let i = end;
  do {
    const d = (n / 10) | 0;
    o.setUint8(--i, 48 + n - d * 10);
    n = d;
  } while (n > 0);
  return end;
}

/**
 * The first index at or after `p` that holds a `"` or a byte this path declines (quoted text
 * runs to there). Four bytes at a time: a word with a byte below 0x20, a high bit, `"` or `\`
 * stops the word loop (the exact test of hasSpecialByte() in json-bytes.ts), bytes finish.
 */
function textEnd(b: Buffer, v: DataView, p: number): number {
  const limit = b.length - 4;
  while (p <= limit) {
    const w = v.getInt32(p, true);
    const q = w ^ 0x22222222;
    const bs = w ^ 0x5c5c5c5c;
    const special =
      (w | ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs)) &
      0x80808080;
    if (special !== 0) break;
    p += 4;
  }
  for (;;) {
    const k = CLASS[b[p]];
    if (k === 0 || k === 2) p++;
    else return p;
  }
}

/** Where a `-`-or-digits field at `at` ends (-1 when there is none or it is too long). */
function numberEnd(b: Uint8Array, at: number): number {
  if (b[at] === 45) return at + 1;
  let i = at;
  while (i - at <= MAX_DIGITS) {
    const d = b[i] - 48;
    if (!(d >= 0 && d <= 9)) break;
    i++;
  }
  return i === at || i - at > MAX_DIGITS ? -1 : i;
}

function numberValue(b: Uint8Array, at: number, end: number): number {
  if (b[at] === 45) return -1;
  let v = 0;
  for (let i = at; i < end; i++) v = v * 10 + (b[i] - 48);
  return v;
}

/** Where records are written: RecordBytesWriter, or the access worker's shared memory. */
export interface RecordSink {
  /** Where the next record starts in the Buffer reserve() returns. */
  readonly pendingBytes: number;
  /** The Buffer to write into, with room for `n` more bytes. */
  reserve(n: number): Buffer;
  /** The record's bytes end at `end`. */
  commit(end: number): void;
}

/** Whether lines parsed with this --format may take the byte-level access path. */
export function accessBytesFormat(format: string | undefined): boolean {
  const f = format ?? 'auto';
  return f === 'auto' || f === 'apache_common' || f === 'apache_combined';
}

/** What --stats counts of an access line: AccessFacts with byte ranges for the strings. */
export interface AccessByteFacts {
  combined: boolean;
  epochMs: number;
  /** -1 when written as `-`. */
  status: number;
  clientStart: number;
  clientEnd: number;
  /** -1 when the request has no `METHOD TARGET` shape. */
  pathStart: number;
  pathEnd: number;
  /** Whether the two hashes below (hashBytes() in stats.ts) are set. */
  hashed: boolean;
  clientHash: number;
  pathHash: number;
}

export function newAccessByteFacts(): AccessByteFacts {
  return {
    combined: false,
    epochMs: 0,
    status: 0,
    clientStart: 0,
    clientEnd: 0,
    pathStart: -1,
    pathEnd: -1,
    hashed: false,
    clientHash: 0,
    pathHash: 0,
  };
}

/** What scan() found in the last line it accepted (offsets into that Buffer). */
interface Fields {
  start: number;
  clientEnd: number;
  userStart: number;
  userEnd: number;
  rqStart: number;
  rqEnd: number;
  status: number;
  bytes: number;
  /** Referrer and user agent ranges; refStart -1 for common lines, uaStart -1 without one. */
  refStart: number;
  refEnd: number;
  uaStart: number;
  uaEnd: number;
  end: number;
  /** Set by findTarget(). */
  sp1: number;
  sp2: number;
  targetEnd: number;
  qm: number;
}

/**
 * Finds access lines this path can take and writes their records. One instance per input:
 * the `source` and `keepRaw` bytes are fixed at construction.
 */
export class AccessBytes {
  private readonly f: Fields = {
    start: 0,
    clientEnd: 0,
    userStart: 0,
    userEnd: 0,
    rqStart: 0,
    rqEnd: 0,
    status: 0,
    bytes: 0,
    refStart: -1,
    refEnd: -1,
    uaStart: -1,
    uaEnd: -1,
    end: 0,
    sp1: 0,
    sp2: 0,
    targetEnd: 0,
    qm: 0,
  };
  /** The last time text read and its ISO form: lines of one second share them. */
  private readonly timeWords = new Int32Array(7);
  private timeValid = false;
  private epochMs = 0;
  /** The record's opening up to the message for the cached time, per level. */
  private readonly info = new Prefix('info');
  private readonly warn = new Prefix('warn');
  private readonly error = new Prefix('error');
  private readonly inView = new ViewOf();
  private readonly outView = new ViewOf();
  /** `","format":"apache_common"` + source + `,` and the combined one. */
  /** `","format":"apache_common"` + source + `,"http":{"client_ip":"`, and the combined one. */
  private readonly midCommon: Bytes;
  private readonly midCombined: Bytes;
  private readonly fixedBytes: number;

  /**
   * `source` is written to every record as the general path does; `keepRaw` adds the line as
   * `raw`.
   */
  constructor(
    source: string | undefined,
    private readonly keepRaw: boolean,
  ) {
    const src = source === undefined ? '' : `,"source":${JSON.stringify(source)}`;
    this.midCommon = bytes(`","format":"apache_common"${src},"http":{"client_ip":"`);
    this.midCombined = bytes(`","format":"apache_combined"${src},"http":{"client_ip":"`);
    this.fixedBytes = this.midCombined.n + 512;
  }

  /** Bytes write() may need for the line scan() accepted last (at most). */
  get recordRoom(): number {
    return 4 * (this.f.end - this.f.start) + this.fixedBytes;
  }

  /** Epoch ms of the time in the line scan() accepted last. */
  get lastEpochMs(): number {
    return this.epochMs;
  }

  /**
   * Whether the line at `start` (ending at a `\n` inside `b`) is one this path can take; its
   * newline's index, or -1. Reads the fields; writes nothing.
   */
  scan(b: Buffer, start: number): number {
    const f = this.f;
    let p = start;
    while (CLASS[b[p]] === 0) p++;
    if (p === start || b[p] !== 32) return -1;
    f.clientEnd = p;
    const identStart = ++p;
    while (CLASS[b[p]] === 0) p++;
    if (p === identStart || b[p] !== 32 || b[identStart] === 91) return -1;
    const userStart = ++p;
    while (CLASS[b[p]] === 0) p++;
    if (p === userStart || b[p] !== 32 || b[userStart] === 91) return -1;
    f.userStart = userStart;
    f.userEnd = p;
    if (p - start >= MAX_TIME_AT || b[++p] !== 91) return -1;
    const t = p + 1;
    if (b[t + TIME_BYTES] !== 93 || b[t + TIME_BYTES + 1] !== 32) return -1;
    if (b[t + TIME_BYTES + 2] !== 34 || !this.readTime(b, this.inView.get(b), t)) return -1;
    p = t + TIME_BYTES + 3;
    f.rqStart = p;
    const v = this.inView.get(b);
    p = textEnd(b, v, p);
    if (b[p] !== 34 || b[p + 1] !== 32) return -1;
    f.rqEnd = p;
    const statusEnd = numberEnd(b, p + 2);
    if (statusEnd < 0 || b[statusEnd] !== 32) return -1;
    f.status = numberValue(b, p + 2, statusEnd);
    const bytesEnd = numberEnd(b, statusEnd + 1);
    if (bytesEnd < 0) return -1;
    f.bytes = numberValue(b, statusEnd + 1, bytesEnd);
    f.refStart = -1;
    f.uaStart = -1;
    p = bytesEnd;
    if (b[p] !== 10) {
      p = this.quoted(b, v, p);
      if (p < 0) return -1;
      f.refStart = f.uaStart;
      f.refEnd = f.uaEnd;
      f.uaStart = -1;
      if (b[p] !== 10) {
        p = this.quoted(b, v, p);
        if (p < 0 || b[p] !== 10) return -1;
      }
    }
    f.start = start;
    f.end = p;
    return p;
  }

  /** ` "text"` at `p`: its range into uaStart/uaEnd and the index after it, or -1. */
  private quoted(b: Buffer, v: DataView, p: number): number {
    if (b[p] !== 32 || b[p + 1] !== 34) return -1;
    const from = p + 2;
    p = textEnd(b, v, from);
    if (b[p] !== 34) return -1;
    this.f.uaStart = from;
    this.f.uaEnd = p;
    return p + 1;
  }

  /** Reads the 26-byte time at `t` into epochMs and iso; false when it is not one. */
  private readTime(b: Buffer, v: DataView, t: number): boolean {
    // Six 4-byte words and a 2-byte one against the cached text (no bounds trouble: the
    // caller saw the `"` after the time).
    const c = this.timeWords;
    if (
      this.timeValid &&
      v.getInt32(t, true) === c[0] &&
      v.getInt32(t + 4, true) === c[1] &&
      v.getInt32(t + 8, true) === c[2] &&
      v.getInt32(t + 12, true) === c[3] &&
      v.getInt32(t + 16, true) === c[4] &&
      v.getInt32(t + 20, true) === c[5] &&
      v.getUint16(t + 24, true) === c[6]
    ) {
      return true;
    }
    for (let i = 0; i < TIME_BYTES; i++) if (CLASS[b[t + i]] === 1) return false;
    const ms = readApacheTime(b.toString('latin1', t, t + TIME_BYTES), 0);
    // isoMs() writes instants outside years 0000-9999 as the reading time: general path.
    if (!(ms >= -62_167_219_200_000 && ms <= 253_402_300_799_999)) return false;
    const iso = isoMs(ms, 0);
    if (iso.length !== ISO_BYTES) return false;
    const c2 = this.timeWords;
    for (let i = 0; i < 6; i++) c2[i] = v.getInt32(t + 4 * i, true);
    c2[6] = v.getUint16(t + 24, true);
    this.info.setTime(iso);
    this.warn.setTime(iso);
    this.error.setTime(iso);
    this.epochMs = ms;
    this.timeValid = true;
    return true;
  }

  /** Writes the record of the line scan() accepted last. */
  write(buf: Buffer, w: RecordSink): void {
    const f = this.f;
    const out = w.reserve(this.recordRoom);
    const o = this.outView.get(out);
    const b = this.inView.get(buf);
    const level = levelFromStatus(f.status);
    const open = level === 'info' ? this.info : level === 'warn' ? this.warn : this.error;
    let q = k(o, w.pendingBytes, open.bytes);
    const rqStart = f.rqStart;
    const rqEnd = f.rqEnd;
    q = cp(o, q, b, rqStart, rqEnd);
    q = k(o, q, f.refStart < 0 ? this.midCommon : this.midCombined);
    q = cp(o, q, b, f.start, f.clientEnd);
    if (f.userEnd - f.userStart !== 1 || buf[f.userStart] !== 45) {
      q = cp(o, k(o, q, B_REMOTE_USER), b, f.userStart, f.userEnd);
    }
    const empty = rqEnd === rqStart || (rqEnd === rqStart + 1 && buf[rqStart] === 45);
    if (!empty) {
      q = this.splitRequest(buf, o, b, q);
      q = cp(o, k(o, q, B_REQUEST), b, rqStart, rqEnd);
    }
    if (f.status >= 0) q = writeInt(o, k(o, q, B_STATUS), f.status);
    q = k(o, q, f.status >= 0 ? B_BYTES_AFTER_NUM : B_BYTES_AFTER_STR);
    q = writeInt(o, q, f.bytes < 0 ? 0 : f.bytes);
    let inString = false;
    if (f.refStart >= 0) {
      if (present(buf, f.refStart, f.refEnd)) {
        q = cp(o, k(o, q, B_REFERRER), b, f.refStart, f.refEnd);
        inString = true;
      }
      if (f.uaStart >= 0 && present(buf, f.uaStart, f.uaEnd)) {
        if (inString) o.setUint8(q++, 34);
        q = cp(o, k(o, q, B_USER_AGENT), b, f.uaStart, f.uaEnd);
        inString = true;
      }
    }
    if (this.keepRaw) {
      if (inString) o.setUint8(q++, 34);
      o.setUint8(q++, 125);
      q = this.writeRaw(o, b, k(o, q, B_RAW));
      q = k(o, q, B_END_STR);
    } else if (inString) {
      q = k(o, q, B_END_STR_STR);
    } else {
      o.setUint8(q++, 125);
      o.setUint8(q++, 125);
    }
    o.setUint8(q++, 10);
    w.commit(q);
  }

  /**
   * The line as a JSON string's content: its only quotes are those around the request,
   * referrer and user agent (scan() saw to it), each written as `\"`.
   */
  private writeRaw(o: DataView, b: DataView, q: number): number {
    const f = this.f;
    const quotes = [f.rqStart - 1, f.rqEnd];
    if (f.refStart >= 0) quotes.push(f.refStart - 1, f.refEnd);
    if (f.uaStart >= 0) quotes.push(f.uaStart - 1, f.uaEnd);
    let from = f.start;
    for (const at of quotes) {
      q = cp(o, q, b, from, at);
      o.setUint8(q++, 92);
      o.setUint8(q++, 34);
      from = at + 1;
    }
    return cp(o, q, b, from, f.end);
  }

  /**
   * Method, path, query and protocol as splitRequestAt() in access.ts finds them, each as
   * `","name":"value`; nothing when the request has no `METHOD TARGET [HTTP/x]` shape.
   */
  private splitRequest(buf: Buffer, o: DataView, b: DataView, q: number): number {
    const f = this.f;
    if (!this.findTarget(buf)) return q;
    q = cp(o, k(o, q, B_METHOD), b, f.rqStart, f.sp1);
    q = cp(o, k(o, q, B_PATH), b, f.sp1 + 1, f.qm);
    if (f.qm + 1 < f.targetEnd) q = cp(o, k(o, q, B_QUERY), b, f.qm + 1, f.targetEnd);
    if (f.targetEnd !== f.rqEnd) q = cp(o, k(o, q, B_PROTOCOL), b, f.sp2 + 1, f.rqEnd);
    return q;
  }

  /**
   * Finds the method's end (sp1), the protocol's space (sp2), the target's end and its `?`
   * (qm, else the target's end) as splitRequestAt() does; false when the request has no
   * `METHOD TARGET [HTTP/x]` shape.
   */
  private findTarget(buf: Buffer): boolean {
    const f = this.f;
    const start = f.rqStart;
    const end = f.rqEnd;
    // The method's letters, up to the first space.
    let sp1 = start;
    for (; sp1 < end; sp1++) {
      const c = buf[sp1];
      if (c === 32) break;
      if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return false;
    }
    if (sp1 === start || sp1 >= end || sp1 - start > 24) return false;
    let sp2 = end - 1;
    while (sp2 > sp1 && buf[sp2] !== 32) sp2--;
    let targetEnd = end;
    if (sp2 > sp1) {
      // HTTP/0.9 has no protocol; anything else without one is not a request line.
      if (!isHttpSlash(buf, sp2 + 1)) return false;
      targetEnd = sp2;
    }
    if (targetEnd === sp1 + 1) return false;
    let qm = sp1 + 1;
    while (qm < targetEnd && buf[qm] !== 63) qm++;
    f.sp1 = sp1;
    f.sp2 = sp2;
    f.targetEnd = targetEnd;
    f.qm = qm;
    return true;
  }

  /**
   * What `sluice parse --stats` counts of the line scan() accepted last, as scanAccess() in
   * access-stats.ts finds it (this path takes a subset of the lines that one takes).
   */
  facts(buf: Buffer, out: AccessByteFacts): void {
    const f = this.f;
    out.combined = f.refStart >= 0;
    out.epochMs = this.epochMs;
    out.status = f.status;
    out.clientStart = f.start;
    out.clientEnd = f.clientEnd;
    const empty = f.rqEnd === f.rqStart || (f.rqEnd === f.rqStart + 1 && buf[f.rqStart] === 45);
    if (!empty && this.findTarget(buf)) {
      out.pathStart = f.sp1 + 1;
      out.pathEnd = f.qm;
    } else {
      out.pathStart = -1;
    }
  }
}

function isHttpSlash(b: Uint8Array, at: number): boolean {
  return (
    b[at] === 72 && b[at + 1] === 84 && b[at + 2] === 84 && b[at + 3] === 80 && b[at + 4] === 47
  );
}

/** Not empty and not `-` (as present() in access.ts). */
function present(b: Uint8Array, from: number, to: number): boolean {
  return to > from && (to !== from + 1 || b[from] !== 45);
}
