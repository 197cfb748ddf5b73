// Apache error log, 2.2 (`[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] msg`) and 2.4
// (`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 12:tid 34] [client 1.2.3.4:5555]
// AH00123: msg`). The time carries no zone: it is read in --timezone.

import type { JsonValue, Level, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord } from './build.js';
import { levelFromWord } from './level.js';
import { digits, monthNumber } from './time.js';

/** `[Www Mmm dd HH:MM:SS[.ffffff] yyyy]` at 0; returns [epochMs, index after `]`, had µs]. */
function readTime(line: string, ctx: ParseContext): [number, number, boolean] | undefined {
  if (line.charCodeAt(0) !== 91 || line.charCodeAt(4) !== 32 || line.charCodeAt(8) !== 32) {
    return undefined;
  }
  const mo = monthNumber(line, 5);
  if (mo === 0) return undefined;
  let i = 9;
  if (line.charCodeAt(i) === 32) i++;
  let d = digits(line, i, 2);
  if (d >= 0) i += 2;
  else if ((d = digits(line, i, 1)) >= 0) i += 1;
  else return undefined;
  if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 3) !== 58) return undefined;
  const h = digits(line, i + 1, 2);
  const mi = digits(line, i + 4, 2);
  const s = digits(line, i + 7, 2);
  if ((h | mi | s) < 0) return undefined;
  i += 9;
  let ms = 0;
  let micro = false;
  if (line.charCodeAt(i) === 46) {
    micro = true;
    let n = 0;
    i++;
    for (; i < line.length; i++) {
      const dd = line.charCodeAt(i) - 48;
      if (dd < 0 || dd > 9) break;
      if (n++ < 3) ms = ms * 10 + dd;
    }
    for (; n < 3; n++) ms *= 10;
  }
  const y = digits(line, i + 1, 4);
  if (line.charCodeAt(i) !== 32 || y < 0 || line.charCodeAt(i + 5) !== 93) return undefined;
  const t = ctx.zone.civil(y, mo, d, h, mi, s, ms);
  return Number.isNaN(t) ? undefined : [t, i + 6, micro];
}

/** `host:port` (IPv4 or name) or `v6:port` written by 2.4 → the address alone and the port. */
function splitPort(addr: string): [string, number | undefined] {
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return [addr, undefined];
  const port = addr.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) return [addr, undefined];
  return [addr.slice(0, colon), Number(port)];
}

export function parseApacheError(
  line: string,
  ctx: ParseContext,
  refMs: number,
): LogRecord | undefined {
  const time = readTime(line, ctx);
  if (!time) return undefined;
  let i = time[1];
  let level: Level | undefined;
  let v24 = time[2];
  const fields: Record<string, JsonValue> = {};
  let client: string | undefined;
  while (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 91) {
    const close = line.indexOf(']', i + 2);
    if (close < 0) break;
    const inner = line.slice(i + 2, close);
    if (level === undefined) {
      const colon = inner.indexOf(':');
      level = levelFromWord(colon >= 0 ? inner.slice(colon + 1) : inner);
      if (level === undefined) return undefined;
      if (colon >= 0) {
        v24 = true;
        fields.module = inner.slice(0, colon);
      }
    } else if (inner.startsWith('pid ')) {
      const m = /^pid (\d+)(?::tid (\d+))?$/.exec(inner);
      if (!m) break;
      fields.pid = Number(m[1]);
      if (m[2] !== undefined) fields.tid = Number(m[2]);
    } else if (inner.startsWith('client ')) {
      client = inner.slice(7);
    } else if (inner.startsWith('remote ')) {
      fields.remote = inner.slice(7);
    } else {
      break;
    }
    i = close + 1;
  }
  if (level === undefined) return undefined;
  while (line.charCodeAt(i) === 32) i++;
  const message = line.slice(i);
  const rec = newRecord(time[0], refMs, level, message, 'apache_error');
  if (typeof fields.pid === 'number') {
    rec.pid = fields.pid;
    delete fields.pid;
  }
  if (client !== undefined) {
    const [ip, port] = v24 ? splitPort(client) : [client, undefined];
    rec.http = { client_ip: ip };
    if (port !== undefined) fields.client_port = port;
  }
  const code = /^(AH\d{5}): /.exec(message);
  if (code) fields.code = code[1];
  for (const _ in fields) {
    rec.fields = fields;
    break;
  }
  return rec;
}
