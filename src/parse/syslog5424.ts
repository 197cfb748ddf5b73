// RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP-NAME PROCID MSGID [SD...]|- [BOM]MSG`.
// NILVALUE `-` fields are left out; SD-PARAM values have `\"`, `\\` and `\]` undone. The same
// layout without `<PRI>1 ` (rsyslog's RSYSLOG_SyslogProtocol23Format files) is accepted too.

import type { LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord } from './build.js';
import { priFields, readPri } from './syslog.js';
import { readIsoTime } from './time.js';

type StructuredData = Record<string, Record<string, string>>;

/** Reads SD elements from `at`; returns the data and the index after the last `]`. */
function readStructuredData(line: string, at: number): [StructuredData, number] | undefined {
  const sd: StructuredData = {};
  let i = at;
  while (line.charCodeAt(i) === 91) {
    i++;
    let e = i;
    while (e < line.length && line.charCodeAt(e) !== 32 && line.charCodeAt(e) !== 93) e++;
    const id = line.slice(i, e);
    if (id.length === 0) return undefined;
    const params: Record<string, string> = {};
    i = e;
    for (;;) {
      const c = line.charCodeAt(i);
      if (c === 93) {
        i++;
        break;
      }
      if (c !== 32) return undefined;
      i++;
      const eq = line.indexOf('=', i);
      if (eq < 0 || line.charCodeAt(eq + 1) !== 34) return undefined;
      const name = line.slice(i, eq);
      let value = '';
      let j = eq + 2;
      let from = j;
      for (;;) {
        if (j >= line.length) return undefined;
        const v = line.charCodeAt(j);
        if (v === 92) {
          const n = line.charCodeAt(j + 1);
          if (n === 34 || n === 92 || n === 93) {
            value += line.slice(from, j);
            from = j + 1;
          }
          j += 2;
          continue;
        }
        if (v === 34) break;
        j++;
      }
      value += line.slice(from, j);
      params[name] = value;
      i = j + 1;
    }
    sd[id] = params;
  }
  return [sd, i];
}

function nextToken(line: string, at: number): [string, number] | undefined {
  const sp = line.indexOf(' ', at);
  if (sp <= at) return undefined;
  return [line.slice(at, sp), sp + 1];
}

export function parseSyslog5424(
  line: string,
  ctx: ParseContext,
  refMs: number,
): LogRecord | undefined {
  const pri = readPri(line);
  let i = 0;
  if (pri) {
    // VERSION is 1 for every RFC 5424 sender; `<PRI>1 ` is what tells 5424 from 3164.
    if (line.charCodeAt(pri.end) !== 49 || line.charCodeAt(pri.end + 1) !== 32) return undefined;
    i = pri.end + 2;
  }
  let epochMs = refMs;
  if (line.charCodeAt(i) === 45 && line.charCodeAt(i + 1) === 32) {
    if (!pri) return undefined;
    i += 2;
  } else {
    const ts = readIsoTime(line, i, ctx.zone);
    if (!ts || line.charCodeAt(ts.end) !== 32) return undefined;
    epochMs = ts.epochMs;
    i = ts.end + 1;
  }
  const host = nextToken(line, i);
  if (!host) return undefined;
  const app = nextToken(line, host[1]);
  if (!app || app[0].endsWith(':')) return undefined;
  const procid = nextToken(line, app[1]);
  if (!procid) return undefined;
  const msgid = nextToken(line, procid[1]);
  if (!msgid) return undefined;
  const msgidText = msgid[0];
  let at = msgid[1];
  let sd: StructuredData | undefined;
  if (line.charCodeAt(at) === 45) {
    at++;
  } else if (line.charCodeAt(at) === 91) {
    const r = readStructuredData(line, at);
    if (!r) return undefined;
    sd = r[0];
    at = r[1];
  } else {
    return undefined;
  }
  if (at < line.length && line.charCodeAt(at) !== 32) return undefined;
  let msg = at < line.length ? line.slice(at + 1) : '';
  if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
  const pf = pri ? priFields(pri.value) : undefined;
  const rec = newRecord(epochMs, refMs, pf ? pf.level : 'info', msg, 'syslog_rfc5424');
  if (host[0] !== '-') rec.host = host[0];
  if (app[0] !== '-') rec.service = app[0];
  if (procid[0] !== '-') {
    if (/^\d{1,10}$/.test(procid[0])) rec.pid = Number(procid[0]);
    else rec.fields = { procid: procid[0] };
  }
  const syslog = pf ? pf.syslog : {};
  if (msgidText !== '-') syslog.msgid = msgidText;
  if (sd) syslog.structured_data = sd;
  if (pf || sd || msgidText !== '-') rec.syslog = syslog;
  return rec;
}
