// Writes a generated event as one line of each format `sluice parse` reads. Lines are built by
// string concatenation from prepared pieces (no templates parsed per line). When a recorder is
// given, each formatter also notes where each value (slot) starts in the line and how it was
// escaped, so label spans can be mapped to exact line offsets.

import type { Format, Level } from '../record/record.js';
import type { GenEvent } from './event.js';
import { apacheAccessTime, apacheErrorTime, bsdTime, isoTime, nginxTime } from './timefmt.js';

export const GENERATED_FORMATS = [
  'apache_common',
  'apache_combined',
  'apache_error',
  'nginx_error',
  'syslog_rfc3164',
  'syslog_rfc5424',
  'json',
  'logfmt',
] as const satisfies readonly Format[];
export type GeneratedFormat = (typeof GENERATED_FORMATS)[number];

export function isGeneratedFormat(value: string): value is GeneratedFormat {
  return (GENERATED_FORMATS as readonly string[]).includes(value);
}

/** How a slot's text was escaped where it was written. */
export type Escape = 'none' | 'quoted' | 'json' | 'sd';

export interface SlotPlace {
  slot: string;
  at: number;
  escape: Escape;
  /** Where `sluice parse` puts the value in the record (dotted path). */
  field: string;
}

/** Collects where slots were written; reset per line by the caller. */
export type SlotRecorder = SlotPlace[];

export type LineFormatter = (ev: GenEvent, rec: SlotRecorder | null) => string;

/** Backslash-escapes `"` and `\` (Apache %r and headers, logfmt quoted values). */
export function escapeQuoted(s: string): string {
  if (s.indexOf('"') < 0 && s.indexOf('\\') < 0) return s;
  return s.replace(/["\\]/g, (c) => '\\' + c);
}

/** Escapes an RFC 5424 PARAM-VALUE: `"`, `\` and `]`. */
export function escapeSd(s: string): string {
  if (s.indexOf('"') < 0 && s.indexOf('\\') < 0 && s.indexOf(']') < 0) return s;
  return s.replace(/["\\\]]/g, (c) => '\\' + c);
}

/** The text of a JSON string without its quotes. */
export function escapeJson(s: string): string {
  // Most values need no escape; testing for that is far cheaper than stringifying.
  return NEEDS_JSON_ESCAPE.test(s) ? JSON.stringify(s).slice(1, -1) : s;
}

const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Length of `text` once escaped as `escape` does: maps unescaped offsets to line offsets. */
export function escapedLength(text: string, escape: Escape): number {
  switch (escape) {
    case 'none':
      return text.length;
    case 'quoted':
      return escapeQuoted(text).length;
    case 'json':
      return escapeJson(text).length;
    case 'sd':
      return escapeSd(text).length;
  }
}

/** Syslog severity code of a level (RFC 5424 §6.2.1). */
export const SYSLOG_SEVERITY: Readonly<Record<Level, number>> = {
  trace: 7,
  debug: 7,
  info: 6,
  notice: 5,
  warn: 4,
  error: 3,
  critical: 2,
};

const APACHE_LEVEL: Readonly<Record<Level, string>> = {
  trace: 'trace1',
  debug: 'debug',
  info: 'info',
  notice: 'notice',
  warn: 'warn',
  error: 'error',
  critical: 'crit',
};

const NGINX_LEVEL: Readonly<Record<Level, string>> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  notice: 'notice',
  warn: 'warn',
  error: 'error',
  critical: 'crit',
};

/**
 * The level a format can carry for a wanted level: access logs derive it from the status,
 * syslog and nginx have no trace. The engine stores this, so parse-back compares equal.
 */
export function levelInFormat(format: GeneratedFormat, level: Level, status: number): Level {
  if (format === 'apache_common' || format === 'apache_combined') {
    return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  }
  if (level === 'trace' && format !== 'apache_error' && format !== 'json' && format !== 'logfmt') {
    return 'debug';
  }
  return level;
}

function mark(
  rec: SlotRecorder | null,
  slot: string,
  at: number,
  escape: Escape,
  field = slot,
): void {
  if (rec) rec.push({ slot, at, escape, field });
}

// Request targets, referrers and user agents never need Apache's backslash escapes: targets are
// checked when a scenario loads (no spaces, quotes or backslashes) and placeholder values in
// them are percent-encoded; referrers and user agents come from the built-in lists.
function accessFormatter(combined: boolean): LineFormatter {
  const time = apacheAccessTime();
  return (ev, rec) => {
    const r = ev.request;
    let s = r.clientIp;
    mark(rec, 'http.client_ip', 0, 'none');
    s += r.remoteUser ? ' - ' + r.remoteUser + ' [' : ' - - [';
    s += time(ev.timeMs) + '] "' + r.method + ' ';
    mark(rec, 'http.path', s.length, 'none');
    s += r.path;
    if (r.query) {
      s += '?';
      mark(rec, 'http.query', s.length, 'none');
      s += r.query;
    }
    s += ' ' + r.protocol + '" ' + r.status + (r.bytes > 0 ? ' ' + r.bytes : ' -');
    if (!combined) return s;
    if (r.referrer) {
      s += ' "';
      mark(rec, 'http.referrer', s.length, 'none');
      s += r.referrer + '" "';
    } else {
      s += ' "-" "';
    }
    return s + r.userAgent + '"';
  };
}

function apacheErrorFormatter(): LineFormatter {
  const time = apacheErrorTime();
  return (ev, rec) => {
    const module = ev.level === 'error' || ev.level === 'critical' ? 'proxy' : 'core';
    let s = '[' + time(ev.timeMs) + '] [' + module + ':' + APACHE_LEVEL[ev.level] + '] [pid ';
    s += ev.pid + ':tid ' + ev.tid + '] ';
    if (ev.withRequest) {
      s += '[client ';
      mark(rec, 'http.client_ip', s.length, 'none');
      s += ev.request.clientIp + ':' + ev.request.clientPort + '] ';
    }
    mark(rec, 'message', s.length, 'none');
    return s + ev.message;
  };
}

function nginxErrorFormatter(): LineFormatter {
  const time = nginxTime();
  return (ev, rec) => {
    let s = time(ev.timeMs) + ' [' + NGINX_LEVEL[ev.level] + '] ' + ev.pid + '#' + ev.pid + ': ';
    if (!ev.withRequest) {
      mark(rec, 'message', s.length, 'none');
      return s + ev.message;
    }
    const r = ev.request;
    s += '*' + ev.seq + ' ';
    mark(rec, 'message', s.length, 'none');
    s += ev.message + ', client: ';
    mark(rec, 'http.client_ip', s.length, 'none');
    s += r.clientIp + ', server: ' + ev.host + ', request: "' + r.method + ' ';
    mark(rec, 'http.path', s.length, 'none');
    s += r.path;
    if (r.query) {
      s += '?';
      mark(rec, 'http.query', s.length, 'none');
      s += r.query;
    }
    return s + ' ' + r.protocol + '", host: "' + ev.host + '"';
  };
}

function pri(ev: GenEvent): number {
  return ev.facility * 8 + SYSLOG_SEVERITY[ev.level];
}

function bsdFormatter(): LineFormatter {
  const time = bsdTime();
  return (ev, rec) => {
    const s = '<' + pri(ev) + '>' + time(ev.timeMs) + ' ' + ev.host + ' ' + ev.service;
    const head = s + '[' + ev.pid + ']: ';
    mark(rec, 'message', head.length, 'none');
    return head + ev.message;
  };
}

/** The key/values the structured formats write after the message, in order. */
export function structuredPairs(ev: GenEvent): Array<[string, string, string | number]> {
  const out: Array<[string, string, string | number]> = [['trace_id', 'trace_id', ev.traceId]];
  out.push([ev.entityKey, 'entity', ev.entity]);
  if (ev.withRequest) {
    const r = ev.request;
    out.push(
      ['client_ip', 'http.client_ip', r.clientIp],
      ['method', 'http.method', r.method],
      ['path', 'http.path', r.path],
      ['status', 'http.status', r.status],
      ['latency_ms', 'http.latency_ms', r.latencyMs],
    );
  }
  for (const key of Object.keys(ev.fields)) out.push([key, 'fields.' + key, ev.fields[key]]);
  return out;
}

function rfc5424Formatter(): LineFormatter {
  const time = isoTime();
  return (ev, rec) => {
    let s = '<' + pri(ev) + '>1 ' + time(ev.timeMs) + ' ' + ev.host + ' ' + ev.service + ' ';
    s += ev.pid + ' ' + (ev.msgid || '-') + ' [event@32473';
    for (const [key, slot, value] of structuredPairs(ev)) {
      s += ' ' + key + '="';
      const text = String(value);
      mark(rec, slot, s.length, 'sd', 'syslog.structured_data.event@32473.' + key);
      s += escapeSd(text) + '"';
    }
    s += '] ';
    mark(rec, 'message', s.length, 'none');
    return s + ev.message;
  };
}

function jsonFormatter(): LineFormatter {
  const time = isoTime();
  return (ev, rec) => {
    let s = '{"timestamp":"' + time(ev.timeMs) + '","level":"' + ev.level + '","host":"';
    // Host, service, keys, ids, addresses, methods and paths are checked when the scenario
    // loads (names and request targets) or come from fixed lists: only the message and
    // template field values can hold characters JSON must escape.
    s += ev.host + '","service":"' + ev.service + '","pid":' + ev.pid;
    s += ',"message":"';
    mark(rec, 'message', s.length, 'json');
    s += escapeJson(ev.message) + '"';
    for (const [key, slot, value] of structuredPairs(ev)) {
      s += ',"' + key + '":';
      if (typeof value === 'number') {
        s += value;
      } else {
        mark(rec, slot, s.length + 1, 'json', slot === 'message' ? slot : 'fields.' + key);
        s += '"' + (slot.charCodeAt(0) === 102 ? escapeJson(value) : value) + '"';
      }
    }
    return s + '}';
  };
}

/** A logfmt value needs quotes when it is empty, has a space/quote/=/\, or reads as a number. */
function logfmtNeedsQuotes(s: string): boolean {
  if (s.length === 0) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 61 || c === 92) return true;
  }
  const c0 = s.charCodeAt(0);
  return ((c0 >= 48 && c0 <= 57) || c0 === 45) && Number.isFinite(Number(s));
}

function logfmtValue(
  s: string,
  slot: string,
  field: string,
  line: string,
  rec: SlotRecorder | null,
): string {
  if (!logfmtNeedsQuotes(s)) {
    mark(rec, slot, line.length, 'none', field);
    return s;
  }
  mark(rec, slot, line.length + 1, 'quoted', field);
  return '"' + escapeQuoted(s).replace(/\n/g, '\\n') + '"';
}

function logfmtFormatter(): LineFormatter {
  const time = isoTime();
  return (ev, rec) => {
    let s = 'ts=' + time(ev.timeMs) + ' level=' + ev.level + ' host=' + ev.host;
    s += ' service=' + ev.service + ' pid=' + ev.pid + ' msg=';
    s += logfmtValue(ev.message, 'message', 'message', s, rec);
    for (const [key, slot, value] of structuredPairs(ev)) {
      s += ' ' + key + '=';
      s += typeof value === 'number' ? value : logfmtValue(value, slot, 'fields.' + key, s, rec);
    }
    return s;
  };
}

/** A formatter for one format; each keeps its own per-second timestamp cache. */
export function createFormatter(format: GeneratedFormat): LineFormatter {
  switch (format) {
    case 'apache_common':
      return accessFormatter(false);
    case 'apache_combined':
      return accessFormatter(true);
    case 'apache_error':
      return apacheErrorFormatter();
    case 'nginx_error':
      return nginxErrorFormatter();
    case 'syslog_rfc3164':
      return bsdFormatter();
    case 'syslog_rfc5424':
      return rfc5424Formatter();
    case 'json':
      return jsonFormatter();
    case 'logfmt':
      return logfmtFormatter();
  }
}
