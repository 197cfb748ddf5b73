// A light reading of combined/common access-log lines: the fields a query usually asks about
// (status, method, path, level, time), taken with the parser's own scanning steps but without
// building the full record, unescaping every quoted field or formatting the timestamp unless
// asked. It follows parseAccess step by step, so a line it accepts is one the access parser
// accepts, with the same values; anything else returns undefined and goes to the full parser.

import type { HttpFields, LogRecord } from '../../record/record.js';
import { SEVERITY } from '../../record/record.js';
import { closingQuote, unescapeQuoted } from '../../parse/build.js';
import { findTime, readNumberField, splitRequest } from '../../parse/access.js';
import { levelFromStatus } from '../../parse/level.js';
import { isoMs, readApacheTime } from '../../parse/time.js';

/** Record paths the probe fills; a query that needs any other path parses the line. */
export const ACCESS_PROBE_PATHS = new Set([
  'level',
  'severity',
  'format',
  'timestamp',
  'message',
  'http.status',
  'http.bytes',
  'http.method',
  'http.path',
  'http.query',
  'http.protocol',
  'http.request',
  'http.client_ip',
]);

export interface AccessProbe {
  (line: string): LogRecord | undefined;
}

export interface AccessProbeOptions {
  /** Fill `timestamp` (a date computation per new second). */
  withTime: boolean;
  /** Fill http.method, path, query and protocol (splitting the request line). */
  withRequestParts: boolean;
}

/** The probe options a set of paths needs. */
export function probeOptionsFor(paths: Iterable<string>): AccessProbeOptions {
  const list = [...paths];
  return {
    withTime: list.includes('timestamp'),
    withRequestParts: list.some((p) => /^http\.(method|path|query|protocol)$/.test(p)),
  };
}

/** Builds a probe that fills what `options` asks for, plus level, status, bytes and message. */
export function accessProbe(options: AccessProbeOptions): AccessProbe {
  const { withTime, withRequestParts } = options;
  let lastTimeText = '';
  let lastTimeMs = NaN;
  return (line) => {
    const b = findTime(line);
    if (b < 5) return undefined;
    // Lines of one second share the time text: reuse the previous line's reading.
    let t: number;
    if (sameText(line, b + 1, lastTimeText)) t = lastTimeMs;
    else {
      t = readApacheTime(line, b + 1);
      lastTimeText = line.slice(b + 1, b + 27);
      lastTimeMs = t;
    }
    if (Number.isNaN(t)) return undefined;
    const e1 = spaceBefore(line, b - 2);
    if (e1 <= 0) return undefined;
    const e2 = spaceBefore(line, e1 - 1);
    if (e2 <= 0) return undefined;
    let i = b + 28;
    if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 1) !== 34) return undefined;
    const rq = closingQuote(line, i + 2);
    if (rq < 0) return undefined;
    const rawRequest = line.slice(i + 2, rq);
    i = rq + 1;
    if (line.charCodeAt(i) !== 32) return undefined;
    const status = readNumberField(line, i + 1);
    if (!status || line.charCodeAt(status[1]) !== 32) return undefined;
    const bytes = readNumberField(line, status[1] + 1);
    if (!bytes) return undefined;
    i = bytes[1];
    let combined = false;
    if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
      const rf = closingQuote(line, i + 2);
      if (rf < 0) return undefined;
      i = rf + 1;
      combined = true;
      if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
        const ue = closingQuote(line, i + 2);
        if (ue < 0) return undefined;
      }
    } else if (i < line.length && line.charCodeAt(i) !== 32) {
      return undefined;
    }
    const request = rawRequest.indexOf('\\') >= 0 ? unescapeQuoted(rawRequest) : rawRequest;
    const http: HttpFields = {};
    http.client_ip = line.slice(spaceBefore(line, e2 - 1) + 1, e2);
    if (request.length > 0 && request !== '-') {
      http.request = request;
      if (withRequestParts) splitRequest(request, http);
    }
    if (status[0] >= 0) http.status = status[0];
    http.bytes = bytes[0] < 0 ? 0 : bytes[0];
    const level = levelFromStatus(status[0]);
    return {
      timestamp: withTime ? isoMs(t, t) : '',
      level,
      severity: SEVERITY[level],
      message: request,
      format: combined ? 'apache_combined' : 'apache_common',
      http,
    };
  };
}

/** The last space at or before `from` (a short walk back: %l and %u are usually "-"). */
function spaceBefore(line: string, from: number): number {
  for (let i = from; i >= 0; i--) if (line.charCodeAt(i) === 32) return i;
  return -1;
}

/** line[at, at + text.length) === text, compared from the end (the seconds change first). */
function sameText(line: string, at: number, text: string): boolean {
  if (text.length === 0) return false;
  for (let k = text.length - 1; k >= 0; k--) {
    if (line.charCodeAt(at + k) !== text.charCodeAt(k)) return false;
  }
  return true;
}
