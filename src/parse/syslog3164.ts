// RFC 3164 (BSD) syslog: `[<PRI>]Mmm dd HH:MM:SS HOST TAG[PID]: MSG`, with the variants real
// senders write: space-padded or unpadded days, a year after the day, an ISO 8601 time as
// rsyslog writes it, no PRI at all (files), no host, no tag.

import type { LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord } from './build.js';
import { priFields, readPri } from './syslog.js';
import { digits, inferYear, monthNumber, readIsoTime } from './time.js';

interface Stamp {
  epochMs: number;
  end: number;
}

/** `Mmm dd [yyyy ]HH:MM:SS[.fff][:]` at `at`, the year inferred when not written. */
function readBsdTime(
  line: string,
  at: number,
  ctx: ParseContext,
  refMs: number,
): Stamp | undefined {
  const mo = monthNumber(line, at);
  if (mo === 0 || line.charCodeAt(at + 3) !== 32) return undefined;
  let i = at + 4;
  if (line.charCodeAt(i) === 32) i++;
  let d = digits(line, i, 2);
  if (d >= 0) i += 2;
  else if ((d = digits(line, i, 1)) >= 0) i += 1;
  else return undefined;
  if (line.charCodeAt(i) !== 32) return undefined;
  i++;
  let year = -1;
  if (line.charCodeAt(i + 4) === 32 && digits(line, i, 4) >= 0) {
    year = digits(line, i, 4);
    i += 5;
  }
  if (line.charCodeAt(i + 2) !== 58 || line.charCodeAt(i + 5) !== 58) return undefined;
  const h = digits(line, i, 2);
  const mi = digits(line, i + 3, 2);
  const s = digits(line, i + 6, 2);
  if ((h | mi | s) < 0) return undefined;
  i += 8;
  let ms = 0;
  if (line.charCodeAt(i) === 46) {
    let n = 0;
    let j = i + 1;
    for (; j < line.length; j++) {
      const dd = line.charCodeAt(j) - 48;
      if (dd < 0 || dd > 9) break;
      if (n++ < 3) ms = ms * 10 + dd;
    }
    for (; n < 3; n++) ms *= 10;
    i = j;
  }
  if (line.charCodeAt(i) === 58) i++;
  if (year < 0) year = ctx.assumeYear ?? inferYear(ctx.zone, mo, d, h, mi, s, refMs);
  const t = ctx.zone.civil(year, mo, d, h, mi, s, ms);
  if (Number.isNaN(t)) return undefined;
  return { epochMs: t, end: i };
}

function hasAlnum(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return true;
  }
  return false;
}

/** Splits `TAG[PID]: MSG` / `TAG: MSG`; a first word without `:` means there is no tag. */
function readTag(rec: LogRecord, rest: string): void {
  const sp = rest.indexOf(' ');
  const token = sp < 0 ? rest : rest.slice(0, sp);
  let tag: string | undefined;
  let pid: number | undefined;
  if (token.length > 1 && token.charCodeAt(token.length - 1) === 58) {
    tag = token.slice(0, -1);
    if (tag.charCodeAt(tag.length - 1) === 93) {
      const ob = tag.lastIndexOf('[');
      if (ob > 0) {
        const p = tag.slice(ob + 1, -1);
        if (/^\d{1,10}$/.test(p)) pid = Number(p);
        tag = tag.slice(0, ob);
      }
    }
  } else if (token.charCodeAt(token.length - 1) === 93) {
    // `tag[123] msg` (no colon) is still a tag with a pid.
    const ob = token.lastIndexOf('[');
    if (ob > 0 && /^\d{1,10}$/.test(token.slice(ob + 1, -1))) {
      tag = token.slice(0, ob);
      pid = Number(token.slice(ob + 1, -1));
    }
  }
  if (tag === undefined || tag.length === 0) {
    rec.message = rest;
    return;
  }
  rec.service = tag;
  if (pid !== undefined) rec.pid = pid;
  rec.message = sp < 0 ? '' : rest.slice(sp + 1);
}

export function parseSyslog3164(
  line: string,
  ctx: ParseContext,
  refMs: number,
): LogRecord | undefined {
  const pri = readPri(line);
  let i = pri ? pri.end : 0;
  if (line.charCodeAt(i) === 32) i++;
  const c = line.charCodeAt(i);
  let stamp: Stamp | undefined;
  const iso = c >= 48 && c <= 57;
  if (iso) {
    const iso = readIsoTime(line, i, ctx.zone);
    // A version digit then a space is RFC 5424, not an ISO time.
    if (iso) stamp = { epochMs: iso.epochMs, end: iso.end };
  } else {
    stamp = readBsdTime(line, i, ctx, refMs);
  }
  if (!stamp) return undefined;
  i = stamp.end;
  if (i < line.length && line.charCodeAt(i) !== 32) return undefined;
  while (line.charCodeAt(i) === 32) i++;
  const pf = pri ? priFields(pri.value) : undefined;
  const rec = newRecord(stamp.epochMs, refMs, pf ? pf.level : 'info', '', 'syslog_rfc3164');
  const sp = line.indexOf(' ', i);
  const host = sp < 0 ? line.slice(i) : line.slice(i, sp);
  if (host.length > 0 && hasAlnum(host) && host.charCodeAt(host.length - 1) !== 58) {
    rec.host = host;
    if (sp >= 0) readTag(rec, line.slice(sp + 1));
    // An ISO time opens many line formats; without PRI only `HOST TAG:` makes it syslog.
    if (!pri && iso && rec.service === undefined) return undefined;
  } else if (!pri && iso) {
    return undefined;
  } else if (i < line.length) {
    // No host (`--- last message repeated ---`, or `tag: msg` straight after the time).
    readTag(rec, line.slice(i));
  }
  if (pf) rec.syslog = pf.syslog;
  return rec;
}
