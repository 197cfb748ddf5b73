// Apache common/combined access logs (and nginx's default `combined`), read by a hand-written
// scanner: `%h %l %u [%t] "%r" %>s %b ["%{Referer}i" "%{User-Agent}i"] [extras]`.
// Variants seen in real files are accepted: a vhost or an X-Forwarded-For list before %h,
// escaped quotes inside quoted fields, garbage request lines, trailing extra fields.

import type { HttpFields, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord, closingQuote, unescapeQuoted } from './build.js';
import { levelFromStatus } from './level.js';
import { readApacheTime } from './time.js';

/** Where the bracketed time starts (index of `[`), or -1. */
export function findTime(line: string): number {
  let b = line.indexOf(' [');
  // The time is near the start; a bracket far out is not %t.
  while (b >= 0 && b < 512) {
    if (line.charCodeAt(b + 28) === 93 && line.charCodeAt(b + 4) === 47) return b + 1;
    b = line.indexOf(' [', b + 1);
  }
  return -1;
}

/** A `-`-or-digits field at `at`: [value, end] (value -1 for `-`), or undefined. */
export function readNumberField(line: string, at: number): [number, number] | undefined {
  const end = numberFieldEnd(line, at);
  return end < 0 ? undefined : [numberFieldValue(line, at, end), end];
}

/** Where a `-`-or-digits field at `at` ends, or -1 when there is none (no tuple allocated). */
export function numberFieldEnd(line: string, at: number): number {
  if (line.charCodeAt(at) === 45) return at + 1;
  let i = at;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
  }
  return i === at ? -1 : i;
}

/** The value of the field numberFieldEnd() found: -1 for `-`. */
export function numberFieldValue(line: string, at: number, end: number): number {
  if (line.charCodeAt(at) === 45) return -1;
  let v = 0;
  for (let i = at; i < end; i++) v = v * 10 + (line.charCodeAt(i) - 48);
  return v;
}

function isMethod(s: string): boolean {
  if (s.length === 0 || s.length > 24) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return false;
  }
  return true;
}

/** Fills method/path/query/protocol from a `METHOD TARGET [PROTO]` request line. */
export function splitRequest(req: string, http: HttpFields): boolean {
  const sp1 = req.indexOf(' ');
  if (sp1 <= 0) return false;
  const method = req.slice(0, sp1);
  if (!isMethod(method)) return false;
  const sp2 = req.lastIndexOf(' ');
  let target: string;
  let protocol: string | undefined;
  if (sp2 > sp1 && req.startsWith('HTTP/', sp2 + 1)) {
    target = req.slice(sp1 + 1, sp2);
    protocol = req.slice(sp2 + 1);
  } else {
    target = req.slice(sp1 + 1);
    // HTTP/0.9 has no protocol; anything else without one is not a request line.
    if (target.indexOf(' ') >= 0) return false;
  }
  if (target.length === 0) return false;
  http.method = method;
  const qm = target.indexOf('?');
  if (qm >= 0) {
    http.path = target.slice(0, qm);
    if (qm + 1 < target.length) http.query = target.slice(qm + 1);
  } else {
    http.path = target;
  }
  if (protocol !== undefined) http.protocol = protocol;
  return true;
}

/**
 * splitRequest() for a request written in `line` between `start` and `end` without escapes:
 * the same answer, read by index so that only the kept fields become strings.
 */
function splitRequestAt(line: string, start: number, end: number, http: HttpFields): void {
  // The method's letters, up to the first space (found by the same walk).
  let sp1 = start;
  for (; sp1 < end; sp1++) {
    const c = line.charCodeAt(sp1);
    if (c === 32) break;
    if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return;
  }
  if (sp1 === start || sp1 >= end || sp1 - start > 24) return;
  const sp2 = spaceBefore(line, end - 1, sp1);
  let targetEnd = end;
  let protocol = false;
  if (sp2 > sp1 && isHttpSlash(line, sp2 + 1)) {
    targetEnd = sp2;
    protocol = true;
  } else if (sp2 > sp1) {
    // HTTP/0.9 has no protocol; anything else without one is not a request line.
    return;
  }
  if (targetEnd === sp1 + 1) return;
  http.method = line.slice(start, sp1);
  const qm = line.indexOf('?', sp1 + 1);
  if (qm >= 0 && qm < targetEnd) {
    http.path = line.slice(sp1 + 1, qm);
    if (qm + 1 < targetEnd) http.query = line.slice(qm + 1, targetEnd);
  } else {
    http.path = line.slice(sp1 + 1, targetEnd);
  }
  if (protocol) http.protocol = line.slice(sp2 + 1, end);
}

/** `HTTP/` at `at` (five comparisons are cheaper than a startsWith call). */
export function isHttpSlash(line: string, at: number): boolean {
  return (
    line.charCodeAt(at) === 72 &&
    line.charCodeAt(at + 1) === 84 &&
    line.charCodeAt(at + 2) === 84 &&
    line.charCodeAt(at + 3) === 80 &&
    line.charCodeAt(at + 4) === 47
  );
}

/**
 * The last space at or before `from` and after `floor`, else `floor` (the distances are short:
 * `%l %u` are mostly `-`, protocols a few letters; a walk beats a lastIndexOf call).
 */
export function spaceBefore(line: string, from: number, floor: number): number {
  for (let i = from; i > floor; i--) if (line.charCodeAt(i) === 32) return i;
  return floor;
}

function present(v: string): boolean {
  return v.length > 0 && v !== '-';
}

/**
 * The client (the token before `%l`, ending at `end`) and what was written before it (vhost,
 * X-Forwarded-For list).
 */
function readClient(line: string, end: number, http: HttpFields): string | undefined {
  const sp = spaceBefore(line, end - 1, -1);
  if (sp < 0) {
    http.client_ip = line.slice(0, end);
    return undefined;
  }
  http.client_ip = line.slice(sp + 1, end);
  return line.slice(0, sp).replace(/^"|"$|,$/g, '');
}

/** The quote closing a field opened before `from`; `escapes` says whether `\` may occur. */
function quoteEnd(line: string, from: number, escapes: boolean): number {
  return escapes ? closingQuote(line, from) : line.indexOf('"', from);
}

export function parseAccess(
  line: string,
  _ctx: ParseContext,
  refMs: number,
): LogRecord | undefined {
  const b = findTime(line);
  if (b < 5) return undefined;
  const t = readApacheTime(line, b + 1);
  if (Number.isNaN(t)) return undefined;
  // `%h %l %u` before the time: user and ident are the last two tokens.
  const e1 = spaceBefore(line, b - 2, -1);
  if (e1 <= 0) return undefined;
  const e2 = spaceBefore(line, e1 - 1, -1);
  if (e2 <= 0) return undefined;
  const http: HttpFields = {};
  const before = readClient(line, e2, http);
  if (b - 1 - (e1 + 1) !== 1 || line.charCodeAt(e1 + 1) !== 45) {
    const user = line.slice(e1 + 1, b - 1);
    if (present(user)) http.remote_user = user;
  }
  // ` "request"` after `]`.
  let i = b + 28;
  if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 1) !== 34) return undefined;
  // One search for `\` serves the three quoted fields: without one, a field ends at its `"`.
  const escapes = line.indexOf('\\', i + 2) >= 0;
  const rqStart = i + 2;
  const rq = quoteEnd(line, rqStart, escapes);
  if (rq < 0) return undefined;
  const rawRequest = line.slice(rqStart, rq);
  const request = escapes ? unescapeQuoted(rawRequest) : rawRequest;
  i = rq + 1;
  if (line.charCodeAt(i) !== 32) return undefined;
  const statusEnd = numberFieldEnd(line, i + 1);
  if (statusEnd < 0 || line.charCodeAt(statusEnd) !== 32) return undefined;
  const status = numberFieldValue(line, i + 1, statusEnd);
  const bytesEnd = numberFieldEnd(line, statusEnd + 1);
  if (bytesEnd < 0) return undefined;
  const bytes = numberFieldValue(line, statusEnd + 1, bytesEnd);
  i = bytesEnd;
  if (present(request)) {
    http.request = request;
    if (request === rawRequest) splitRequestAt(line, rqStart, rq, http);
    else splitRequest(request, http);
  }
  if (status >= 0) http.status = status;
  http.bytes = bytes < 0 ? 0 : bytes;
  let combined = false;
  if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
    const rf = quoteEnd(line, i + 2, escapes);
    if (rf < 0) return undefined;
    const rawReferrer = line.slice(i + 2, rf);
    const referrer = escapes ? unescapeQuoted(rawReferrer) : rawReferrer;
    i = rf + 1;
    combined = true;
    let ua: string | undefined;
    if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
      const ue = quoteEnd(line, i + 2, escapes);
      if (ue < 0) return undefined;
      ua = line.slice(i + 2, ue);
      if (escapes) ua = unescapeQuoted(ua);
      i = ue + 1;
    }
    if (present(referrer)) http.referrer = referrer;
    if (ua !== undefined && present(ua)) http.user_agent = ua;
  } else if (i < line.length && line.charCodeAt(i) !== 32) {
    return undefined;
  }
  const level = levelFromStatus(status);
  const rec = newRecord(t, refMs, level, request, combined ? 'apache_combined' : 'apache_common');
  rec.http = http;
  const extra = i < line.length ? line.slice(i).trim() : '';
  if (extra.length > 0 || (before !== undefined && before.length > 0)) {
    rec.fields = {};
    if (before !== undefined && before.length > 0) {
      // A comma list is X-Forwarded-For; a single name is the virtual host (%v).
      if (before.indexOf(',') >= 0 || before.indexOf(' ') >= 0) rec.fields.forwarded_for = before;
      else rec.fields.vhost = before;
    }
    if (extra.length > 0) rec.fields.extra = extra;
  }
  return rec;
}
