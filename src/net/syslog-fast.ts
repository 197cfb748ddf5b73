// The collector's fast path for syslog lines: from the bytes of one frame straight to the
// record and its stored NDJSON line, without decoding the frame to a string first or having
// the store encode the record afterwards. It takes the common shapes only — `<PRI>` then an
// RFC 3164 header (ISO or BSD time, host, `tag[pid]:`) or an RFC 5424 header without
// structured data, the header in ASCII — and says no to anything else, which then goes through
// the general line parser (src/parse). What it produces is what the general path produces for
// the same line: the same record and the same bytes as the store's encoder writes for it
// (test/serve/syslog-fast.test.ts compares both on the shared cases, the corpus and generated
// lines with awkward bytes). Timestamps are read and formatted by the parser's own functions,
// strings are escaped by JSON.stringify, as the encoder escapes them.
//
// The line is put together from three strings: the part before the message (per timestamp and
// PRI), the message, and the part after it (per header: host, tag, pid, PRI, format, source),
// the first and last cached, since consecutive lines from one sender mostly share them.

import { contextFor, type ParseContext } from '../parse/context.js';
import type { ParseOptions } from '../parse/options.js';
import { FACILITIES } from '../parse/syslog.js';
import { SYSLOG_SEVERITY_LEVEL } from '../parse/level.js';
import { inferYear, isoMs, readIsoTime } from '../parse/time.js';
import { SEVERITY, type Format, type LogRecord } from '../record/record.js';

/** Buffer's own readers, without the argument checks of toString. */
interface Latin1Readable extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const SP = 32;
const COLON = 58;
const LT = 60;
const GT = 62;
const OPEN = 91;
const CLOSE = 93;
const DASH = 45;
const DOT = 46;

/** Records with times outside 0000-9999 take the reference time in the general path. */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_799_999;
/** Characters JSON.stringify escapes in a string that came from UTF-8 (no lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
/** Header bytes (host to message) longer than this are not cached. */
const MAX_HEADER_KEY = 256;

/** Per PRI value: the level, the syslog fields and the encoder's text around the message. */
interface Pri {
  level: LogRecord['level'];
  facility: string;
  code: number;
  sev: number;
  /** `","level":"info","severity":9,"message":` */
  head: string;
  /** `,"syslog":{"facility":"auth","facility_code":4,"severity_code":6` (no closing brace) */
  syslog: string;
}

const PRIS: Pri[] = Array.from({ length: 192 }, (_, pri) => {
  const code = pri >> 3;
  const sev = pri & 7;
  const level = SYSLOG_SEVERITY_LEVEL[sev];
  const facility = FACILITIES[code];
  return {
    level,
    facility,
    code,
    sev,
    head: `","level":"${level}","severity":${SEVERITY[level]},"message":`,
    syslog:
      `,"syslog":{"facility":${JSON.stringify(facility)},"facility_code":${code},` +
      `"severity_code":${sev}`,
  };
});

/** The value of `n` ASCII digits of b at `at` (all before `end`), or -1. */
function digitsAt(b: Uint8Array, at: number, n: number, end: number): number {
  if (at + n > end) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = b[at + i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** b[i] when i is inside the frame, else -1 (the general parser sees NaN past the line). */
function at(b: Uint8Array, i: number, end: number): number {
  return i < end ? b[i] : -1;
}

function indexOfByte(b: Uint8Array, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === c) return i;
  return -1;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_CODES = new Map<number, number>(
  MONTHS.map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i + 1]),
);

/** Parsed pieces of one frame: byte ranges into it, and the values read. */
interface Parsed {
  format: Format;
  pri: number;
  epochMs: number;
  /** Where the header after the time starts (host...): with pri and format, the cache key. */
  headAt: number;
  hostAt: number;
  hostEnd: number;
  serviceAt: number;
  serviceEnd: number;
  pid: number;
  msgAt: number;
  msgEnd: number;
  msgidAt: number;
  msgidEnd: number;
  /** A non-numeric RFC 5424 PROCID, kept as fields.procid. */
  procidAt: number;
  procidEnd: number;
}

/** What a header (host to message) gives every record that has it. */
interface Header {
  host?: string;
  service?: string;
  pid: number;
  msgid?: string;
  procid?: string;
  /** The line after the message: `,"host":...,"syslog":{...}}` */
  after: string;
  /** The same after the message's closing quote. */
  afterQuote: string;
}

/**
 * One connection's fast path (it caches the last timestamp and header). `line()` either
 * appends the frame's record and line and returns its format, or does nothing and returns
 * undefined: then the caller decodes the frame and uses the general parser.
 */
export class SyslogFastPath {
  private readonly ctx: ParseContext;
  private readonly source: string;
  private readonly sourceJson: string;
  private readonly p: Parsed = {
    format: 'syslog_rfc3164',
    pri: 0,
    epochMs: 0,
    headAt: 0,
    hostAt: -1,
    hostEnd: -1,
    serviceAt: -1,
    serviceEnd: -1,
    pid: -1,
    msgAt: 0,
    msgEnd: 0,
    msgidAt: -1,
    msgidEnd: -1,
    procidAt: -1,
    procidEnd: -1,
  };
  // The last ISO timestamp text read and its value: lines of one second share it.
  private readonly isoKey = Buffer.alloc(40);
  private isoKeyLen = -1;
  private isoMs = NaN;
  private isoOk = false;
  // The line before the message for the last timestamp and PRI.
  private beforeTs = '';
  private beforePri = -1;
  private before = '';
  private beforeQuote = '';
  // The last header and what it gives.
  private readonly headerKey = Buffer.alloc(MAX_HEADER_KEY);
  private headerKeyLen = -1;
  private headerPri = -1;
  private headerFormat: Format = 'text';
  private header?: Header;

  /** Whether these parse options leave the fast path's output equal to the general path's. */
  static supports(opts: ParseOptions): boolean {
    return (
      (opts.format === undefined || opts.format === 'auto') &&
      !opts.keepRaw &&
      opts.source !== undefined
    );
  }

  constructor(opts: ParseOptions) {
    this.ctx = contextFor(opts);
    this.source = opts.source as string;
    this.sourceJson = JSON.stringify(this.source);
  }

  /**
   * Tries b[start, end) (one frame, no line terminator). On success appends the record to
   * `out` and its encoded line at the same index of `lines`, and returns its format.
   */
  line(
    b: Buffer,
    start: number,
    end: number,
    out: LogRecord[],
    lines: Array<string | undefined>,
  ): Format | undefined {
    const p = this.p;
    if (!this.parse(b, start, end, p)) return undefined;
    // The header is read as latin1: it must be ASCII. The message is decoded as UTF-8 alone,
    // which gives what decoding the whole line does (it starts after an ASCII byte).
    for (let i = start; i < p.msgAt; i++) if (b[i] >= 0x80) return undefined;
    const pri = PRIS[p.pri];
    const timestamp = isoMs(p.epochMs, p.epochMs);
    const h = this.headerOf(b as Latin1Readable, p);
    let msgAt = p.msgAt;
    // RFC 5424: a BOM before the message is not part of it (parseSyslog5424).
    if (p.format === 'syslog_rfc5424' && b[msgAt] === 0xef && msgAt + 2 < p.msgEnd) {
      if (b[msgAt + 1] === 0xbb && b[msgAt + 2] === 0xbf) msgAt += 3;
    }
    const message = msgAt < p.msgEnd ? (b as Latin1Readable).utf8Slice(msgAt, p.msgEnd) : '';
    const syslog =
      h.msgid === undefined
        ? { facility: pri.facility, facility_code: pri.code, severity_code: pri.sev }
        : {
            facility: pri.facility,
            facility_code: pri.code,
            severity_code: pri.sev,
            msgid: h.msgid,
          };
    let rec: LogRecord;
    if (h.host !== undefined && h.service !== undefined && h.pid >= 0 && h.procid === undefined) {
      // The usual shape in one literal: one object layout, no property added one by one.
      rec = {
        timestamp,
        level: pri.level,
        severity: SEVERITY[pri.level],
        message,
        format: p.format,
        host: h.host,
        service: h.service,
        pid: h.pid,
        syslog,
        source: this.source,
      };
    } else {
      rec = {
        timestamp,
        level: pri.level,
        severity: SEVERITY[pri.level],
        message,
        format: p.format,
      };
      if (h.host !== undefined) rec.host = h.host;
      if (h.service !== undefined) rec.service = h.service;
      if (h.pid >= 0) rec.pid = h.pid;
      if (h.procid !== undefined) rec.fields = { procid: h.procid };
      rec.syslog = syslog;
      rec.source = this.source;
    }
    if (timestamp !== this.beforeTs || p.pri !== this.beforePri) {
      this.beforeTs = timestamp;
      this.beforePri = p.pri;
      this.before = '{"timestamp":"' + timestamp + pri.head;
      this.beforeQuote = this.before + '"';
    }
    // Most messages need no escape: then the quotes go around the message string itself.
    lines[out.length] = NEEDS_ESCAPE.test(message)
      ? this.before + JSON.stringify(message) + h.after
      : this.beforeQuote + message + h.afterQuote;
    out.push(rec);
    return p.format;
  }

  /** The header's strings and the line's end, from the cache when the header bytes repeat. */
  private headerOf(b: Latin1Readable, p: Parsed): Header {
    const from = p.headAt;
    const n = p.msgAt - from;
    const key = this.headerKey;
    if (
      this.header !== undefined &&
      n === this.headerKeyLen &&
      p.pri === this.headerPri &&
      p.format === this.headerFormat &&
      sameBytes(b, from, key, n)
    ) {
      return this.header;
    }
    const text = (at: number, to: number) => (at >= 0 ? b.latin1Slice(at, to) : undefined);
    const h: Header = {
      host: text(p.hostAt, p.hostEnd),
      service: text(p.serviceAt, p.serviceEnd),
      pid: p.pid,
      msgid: text(p.msgidAt, p.msgidEnd),
      procid: text(p.procidAt, p.procidEnd),
      after: '',
      afterQuote: '',
    };
    const pri = PRIS[p.pri];
    let after = '';
    if (h.host !== undefined) after += ',"host":' + JSON.stringify(h.host);
    if (h.service !== undefined) after += ',"service":' + JSON.stringify(h.service);
    if (h.pid >= 0) after += ',"pid":' + String(h.pid);
    after += ',"format":"' + p.format + '","source":' + this.sourceJson + pri.syslog;
    if (h.msgid !== undefined) after += ',"msgid":' + JSON.stringify(h.msgid);
    after += '}';
    if (h.procid !== undefined) after += ',"fields":{"procid":' + JSON.stringify(h.procid) + '}';
    h.after = after + '}';
    h.afterQuote = '"' + h.after;
    if (n <= MAX_HEADER_KEY) {
      b.copy(key, 0, from, p.msgAt);
      this.headerKeyLen = n;
      this.headerPri = p.pri;
      this.headerFormat = p.format;
      this.header = h;
    } else {
      this.header = undefined;
    }
    return h;
  }

  private parse(b: Buffer, s: number, e: number, p: Parsed): boolean {
    if (at(b, s, e) !== LT) return false;
    let v = 0;
    let i = s + 1;
    for (; i < s + 5 && i < e; i++) {
      const c = b[i];
      if (c === GT) break;
      const d = c - 48;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
    }
    if (i === s + 1 || at(b, i, e) !== GT || v > 191) return false;
    i++;
    p.pri = v;
    p.hostAt = p.serviceAt = p.msgidAt = p.procidAt = -1;
    p.pid = -1;
    if (at(b, i, e) === 49 && at(b, i + 1, e) === SP) return this.parse5424(b, i + 2, e, p);
    return this.parse3164(b, i, e, p);
  }

  /** RFC 3164 after `<PRI>`: as parseSyslog3164 reads it when the line has a PRI. */
  private parse3164(b: Buffer, from: number, e: number, p: Parsed): boolean {
    let i = from;
    if (at(b, i, e) === SP) i++;
    const c = at(b, i, e);
    if (c >= 48 && c <= 57) {
      const tsEnd = this.readIso(b, i, e);
      if (tsEnd < 0) return false;
      i = tsEnd;
    } else {
      i = this.readBsd(b, i, e);
      if (i < 0) return false;
    }
    if (i < e && b[i] !== SP) return false;
    while (i < e && b[i] === SP) i++;
    p.format = 'syslog_rfc3164';
    p.headAt = i;
    p.msgAt = p.msgEnd = e;
    const sp = indexOfByte(b, SP, i, e);
    const hostEnd = sp < 0 ? e : sp;
    if (hostEnd > i && hasAlnum(b, i, hostEnd) && b[hostEnd - 1] !== COLON) {
      p.hostAt = i;
      p.hostEnd = hostEnd;
      if (sp >= 0) this.readTag(b, sp + 1, e, p);
    } else if (i < e) {
      this.readTag(b, i, e, p);
    }
    return true;
  }

  /** `TAG[PID]: MSG`, `TAG: MSG`, `TAG[PID] MSG` or a message without a tag (as readTag). */
  private readTag(b: Buffer, from: number, e: number, p: Parsed): void {
    const sp = indexOfByte(b, SP, from, e);
    const tokenEnd = sp < 0 ? e : sp;
    const n = tokenEnd - from;
    let tagEnd = -1;
    let pid = -1;
    if (n > 1 && b[tokenEnd - 1] === COLON) {
      tagEnd = tokenEnd - 1;
      if (b[tagEnd - 1] === CLOSE) {
        const ob = lastIndexOfByte(b, OPEN, from, tagEnd);
        if (ob > from) {
          pid = pidDigits(b, ob + 1, tagEnd - 1);
          tagEnd = ob;
        }
      }
    } else if (n > 0 && b[tokenEnd - 1] === CLOSE) {
      const ob = lastIndexOfByte(b, OPEN, from, tokenEnd);
      if (ob > from) {
        pid = pidDigits(b, ob + 1, tokenEnd - 1);
        if (pid >= 0) tagEnd = ob;
      }
    }
    if (tagEnd <= from) {
      p.msgAt = from;
      p.msgEnd = e;
      return;
    }
    p.serviceAt = from;
    p.serviceEnd = tagEnd;
    p.pid = pid;
    p.msgAt = sp < 0 ? e : sp + 1;
    p.msgEnd = e;
  }

  /** RFC 5424 after `<PRI>1 `, without structured data (as parseSyslog5424 reads it). */
  private parse5424(b: Buffer, from: number, e: number, p: Parsed): boolean {
    let i = from;
    if (at(b, i, e) === DASH && at(b, i + 1, e) === SP) {
      p.epochMs = this.ctx.now();
      i += 2;
    } else {
      const tsEnd = this.readIso(b, i, e);
      if (tsEnd < 0 || at(b, tsEnd, e) !== SP) return false;
      i = tsEnd + 1;
    }
    const hostEnd = indexOfByte(b, SP, i, e);
    if (hostEnd <= i) return false;
    const appAt = hostEnd + 1;
    const appEnd = indexOfByte(b, SP, appAt, e);
    if (appEnd <= appAt || b[appEnd - 1] === COLON) return false;
    const procAt = appEnd + 1;
    const procEnd = indexOfByte(b, SP, procAt, e);
    if (procEnd <= procAt) return false;
    const msgidAt = procEnd + 1;
    const msgidEnd = indexOfByte(b, SP, msgidAt, e);
    if (msgidEnd <= msgidAt) return false;
    let j = msgidEnd + 1;
    // Structured data goes to the general parser.
    if (at(b, j, e) !== DASH) return false;
    j++;
    if (j < e && b[j] !== SP) return false;
    p.format = 'syslog_rfc5424';
    p.headAt = i;
    p.msgAt = j < e ? j + 1 : e;
    p.msgEnd = e;
    if (!isDash(b, i, hostEnd)) {
      p.hostAt = i;
      p.hostEnd = hostEnd;
    }
    if (!isDash(b, appAt, appEnd)) {
      p.serviceAt = appAt;
      p.serviceEnd = appEnd;
    }
    if (!isDash(b, procAt, procEnd)) {
      p.pid = pidDigits(b, procAt, procEnd);
      if (p.pid < 0) {
        p.procidAt = procAt;
        p.procidEnd = procEnd;
      }
    }
    if (!isDash(b, msgidAt, msgidEnd)) {
      p.msgidAt = msgidAt;
      p.msgidEnd = msgidEnd;
    }
    return true;
  }

  /**
   * An ISO 8601 time from `from` to the next space (or the end), read by the parser's own
   * readIsoTime; returns its end, or -1 when it is not one (or ends before that space).
   */
  private readIso(b: Buffer, from: number, e: number): number {
    let sp = indexOfByte(b, SP, from, e);
    if (sp < 0) sp = e;
    const n = sp - from;
    if (n > this.isoKey.length) return -1;
    if (n === this.isoKeyLen && sameBytes(b, from, this.isoKey, n)) {
      if (!this.isoOk) return -1;
      this.p.epochMs = this.isoMs;
      return sp;
    }
    b.copy(this.isoKey, 0, from, sp);
    this.isoKeyLen = n;
    const text = (b as Latin1Readable).latin1Slice(from, sp);
    const t = readIsoTime(text, 0, this.ctx.zone);
    const ok = t !== undefined && t.end === n && t.epochMs >= MIN_MS && t.epochMs <= MAX_MS;
    this.isoOk = ok;
    this.isoMs = ok ? t.epochMs : NaN;
    if (!ok) return -1;
    this.p.epochMs = t.epochMs;
    return sp;
  }

  /** `Mmm dd [yyyy ]HH:MM:SS[.fff][:]` as readBsdTime reads it; the end, or -1. */
  private readBsd(b: Buffer, from: number, e: number): number {
    if (from + 3 > e) return -1;
    const code = ((b[from] | 0x20) << 16) | ((b[from + 1] | 0x20) << 8) | (b[from + 2] | 0x20);
    const mo = MONTH_CODES.get(code) ?? 0;
    if (mo === 0 || at(b, from + 3, e) !== SP) return -1;
    let i = from + 4;
    if (at(b, i, e) === SP) i++;
    let d = digitsAt(b, i, 2, e);
    if (d >= 0) i += 2;
    else if ((d = digitsAt(b, i, 1, e)) >= 0) i += 1;
    else return -1;
    if (at(b, i, e) !== SP) return -1;
    i++;
    let year = -1;
    if (at(b, i + 4, e) === SP && digitsAt(b, i, 4, e) >= 0) {
      year = digitsAt(b, i, 4, e);
      i += 5;
    }
    if (at(b, i + 2, e) !== COLON || at(b, i + 5, e) !== COLON) return -1;
    const h = digitsAt(b, i, 2, e);
    const mi = digitsAt(b, i + 3, 2, e);
    const s = digitsAt(b, i + 6, 2, e);
    if ((h | mi | s) < 0) return -1;
    i += 8;
    let ms = 0;
    if (at(b, i, e) === DOT) {
      let n = 0;
      let j = i + 1;
      for (; j < e; j++) {
        const dd = b[j] - 48;
        if (dd < 0 || dd > 9) break;
        if (n++ < 3) ms = ms * 10 + dd;
      }
      for (; n < 3; n++) ms *= 10;
      i = j;
    }
    if (at(b, i, e) === COLON) i++;
    const ctx = this.ctx;
    const refMs = ctx.now();
    if (year < 0) year = ctx.assumeYear ?? inferYear(ctx.zone, mo, d, h, mi, s, refMs);
    const t = ctx.zone.civil(year, mo, d, h, mi, s, ms);
    if (Number.isNaN(t) || t < MIN_MS || t > MAX_MS) return -1;
    this.p.epochMs = t;
    return i;
  }
}

function sameBytes(b: Uint8Array, from: number, key: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[from + i] !== key[i]) return false;
  return true;
}

function hasAlnum(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i] | 0x20;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return true;
  }
  return false;
}

function lastIndexOfByte(b: Uint8Array, c: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (b[i] === c) return i;
  return -1;
}

/** The value of 1-10 digits filling b[from, to), else -1 (as /^\d{1,10}$/ then Number()). */
function pidDigits(b: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n < 1 || n > 10) return -1;
  return digitsAt(b, from, n, to);
}

function isDash(b: Uint8Array, from: number, to: number): boolean {
  return to - from === 1 && b[from] === DASH;
}
