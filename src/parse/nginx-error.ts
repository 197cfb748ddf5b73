// nginx error log: `YYYY/MM/DD HH:MM:SS [level] PID#TID: [*CID ]message[, client: X, server: Y,
// request: "...", upstream: "...", host: "...", referrer: "..."]`. No zone: read in --timezone.

import type { HttpFields, JsonValue, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord, closingQuote, unescapeQuoted } from './build.js';
import { splitRequest } from './access.js';
import { levelFromWord } from './level.js';
import { digits } from './time.js';

const EXTRAS_START = [', client: ', ', server: '];

/** Reads `, key: value` pairs from `at` to the end; undefined when the tail is not that shape. */
function readExtras(s: string, at: number): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let i = at;
  while (i < s.length) {
    if (s.charCodeAt(i) !== 44 || s.charCodeAt(i + 1) !== 32) return undefined;
    const colon = s.indexOf(': ', i + 2);
    if (colon < 0) return undefined;
    const key = s.slice(i + 2, colon);
    if (!/^[a-z_]+$/.test(key)) return undefined;
    let j = colon + 2;
    let value: string;
    if (s.charCodeAt(j) === 34) {
      const q = closingQuote(s, j + 1);
      if (q < 0) return undefined;
      value = unescapeQuoted(s.slice(j + 1, q));
      j = q + 1;
    } else {
      const comma = s.indexOf(', ', j);
      const end = comma < 0 ? s.length : comma;
      value = s.slice(j, end);
      j = end;
    }
    out.push([key, value]);
    i = j;
  }
  return out;
}

function applyExtras(
  rec: LogRecord,
  extras: Array<[string, string]>,
  fields: Record<string, JsonValue>,
) {
  const http: HttpFields = {};
  let any = false;
  for (const [key, value] of extras) {
    if (value.length === 0) continue;
    if (key === 'client') {
      http.client_ip = value;
      any = true;
    } else if (key === 'request') {
      http.request = value;
      splitRequest(value, http);
      any = true;
    } else if (key === 'referrer') {
      http.referrer = value;
      any = true;
    } else {
      fields[key] = value;
    }
  }
  if (any) rec.http = http;
}

export function parseNginxError(
  line: string,
  ctx: ParseContext,
  refMs: number,
): LogRecord | undefined {
  if (line.charCodeAt(4) !== 47 || line.charCodeAt(7) !== 47 || line.charCodeAt(10) !== 32) {
    return undefined;
  }
  const y = digits(line, 0, 4);
  const mo = digits(line, 5, 2);
  const d = digits(line, 8, 2);
  const h = digits(line, 11, 2);
  const mi = digits(line, 14, 2);
  const s = digits(line, 17, 2);
  if ((y | mo | d | h | mi | s) < 0 || line.charCodeAt(19) !== 32) return undefined;
  if (line.charCodeAt(20) !== 91) return undefined;
  const close = line.indexOf('] ', 21);
  if (close < 0) return undefined;
  const level = levelFromWord(line.slice(21, close));
  if (!level) return undefined;
  const t = ctx.zone.civil(y, mo, d, h, mi, s, 0);
  if (Number.isNaN(t)) return undefined;
  const fields: Record<string, JsonValue> = {};
  let i = close + 2;
  let pid: number | undefined;
  const m = /^(\d+)#(\d+): /.exec(line.slice(i, i + 32));
  if (m) {
    pid = Number(m[1]);
    fields.tid = Number(m[2]);
    i += m[0].length;
    const c = /^\*(\d+) /.exec(line.slice(i, i + 24));
    if (c) {
      fields.connection_id = Number(c[1]);
      i += c[0].length;
    }
  }
  let message = line.slice(i);
  const rec = newRecord(t, refMs, level, message, 'nginx_error');
  if (pid !== undefined) rec.pid = pid;
  for (const marker of EXTRAS_START) {
    const at = message.lastIndexOf(marker);
    if (at < 0) continue;
    // The extras run to the end of the line; find the earliest start that parses as extras.
    const first = message.indexOf(marker);
    const start = readExtras(message, first) ? first : at;
    const extras = readExtras(message, start);
    if (!extras) continue;
    message = message.slice(0, start);
    rec.message = message;
    applyExtras(rec, extras, fields);
    break;
  }
  for (const _ in fields) {
    rec.fields = fields;
    break;
  }
  return rec;
}
