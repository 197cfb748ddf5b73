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
  if (line.charCodeAt(at) === 45) return [-1, at + 1];
  let v = 0;
  let i = at;
  for (; i < line.length; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  return i === at ? undefined : [v, i];
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

function present(v: string): boolean {
  return v.length > 0 && v !== '-';
}

/** The client and what was written before it (vhost, X-Forwarded-For list). */
function readClient(prefix: string, http: HttpFields): string | undefined {
  const sp = prefix.lastIndexOf(' ');
  if (sp < 0) {
    http.client_ip = prefix;
    return undefined;
  }
  http.client_ip = prefix.slice(sp + 1);
  const before = prefix.slice(0, sp);
  return before.replace(/^"|"$|,$/g, '');
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
  const e1 = line.lastIndexOf(' ', b - 2);
  if (e1 <= 0) return undefined;
  const e2 = line.lastIndexOf(' ', e1 - 1);
  if (e2 <= 0) return undefined;
  const user = line.slice(e1 + 1, b - 1);
  const http: HttpFields = {};
  const before = readClient(line.slice(0, e2), http);
  if (present(user)) http.remote_user = user;
  // ` "request"` after `]`.
  let i = b + 28;
  if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 1) !== 34) return undefined;
  const rq = closingQuote(line, i + 2);
  if (rq < 0) return undefined;
  const request = unescapeQuoted(line.slice(i + 2, rq));
  i = rq + 1;
  if (line.charCodeAt(i) !== 32) return undefined;
  const status = readNumberField(line, i + 1);
  if (!status || line.charCodeAt(status[1]) !== 32) return undefined;
  const bytes = readNumberField(line, status[1] + 1);
  if (!bytes) return undefined;
  i = bytes[1];
  if (present(request)) {
    http.request = request;
    splitRequest(request, http);
  }
  if (status[0] >= 0) http.status = status[0];
  http.bytes = bytes[0] < 0 ? 0 : bytes[0];
  let combined = false;
  if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
    const rf = closingQuote(line, i + 2);
    if (rf < 0) return undefined;
    const referrer = unescapeQuoted(line.slice(i + 2, rf));
    i = rf + 1;
    combined = true;
    let ua: string | undefined;
    if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
      const ue = closingQuote(line, i + 2);
      if (ue < 0) return undefined;
      ua = unescapeQuoted(line.slice(i + 2, ue));
      i = ue + 1;
    }
    if (present(referrer)) http.referrer = referrer;
    if (ua !== undefined && present(ua)) http.user_agent = ua;
  } else if (i < line.length && line.charCodeAt(i) !== 32) {
    return undefined;
  }
  const level = levelFromStatus(status[0]);
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
