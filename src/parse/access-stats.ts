// The light path of `sluice parse --stats` for access logs: reads only what the statistics
// need (client, time, request path, status, common or combined) without building a record.
// It accepts a line only when the full parser would give the same answer, and declines
// (returns false) on anything unusual: escapes in the request, a client list, odd fields.
// test/parse/stats.test.ts checks that both paths give identical statistics.

import { closingQuote } from './build.js';
import { findTime, isHttpSlash, numberFieldEnd, numberFieldValue, spaceBefore } from './access.js';
import { readApacheTime } from './time.js';

export interface AccessFacts {
  combined: boolean;
  epochMs: number;
  /** -1 when written as `-`. */
  status: number;
  clientIp: string;
  /** undefined when the request has no `METHOD TARGET` shape. */
  path: string | undefined;
}

function isMethodAt(line: string, from: number, to: number): boolean {
  if (to <= from || to - from > 24) return false;
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return false;
  }
  return true;
}

/** The request path as splitRequest would find it, or undefined. */
function pathOf(line: string, start: number, end: number): string | undefined {
  const sp1 = line.indexOf(' ', start);
  if (sp1 < 0 || sp1 >= end || sp1 === start || !isMethodAt(line, start, sp1)) return undefined;
  const sp2 = spaceBefore(line, end - 1, sp1);
  let targetEnd = end;
  if (sp2 > sp1) {
    // A second space must start the protocol; else this is not a request line.
    if (!isHttpSlash(line, sp2 + 1)) return undefined;
    targetEnd = sp2;
  }
  if (targetEnd <= sp1 + 1) return undefined;
  const qm = line.indexOf('?', sp1 + 1);
  return line.slice(sp1 + 1, qm >= 0 && qm < targetEnd ? qm : targetEnd);
}

/** Fills `out` and returns true when the line is a plain common/combined access line. */
export function scanAccess(line: string, out: AccessFacts): boolean {
  const b = findTime(line);
  if (b < 5) return false;
  const sp = line.indexOf(' ');
  // `client ident user [`: exactly two spaces between client and time, else decline.
  const e1 = spaceBefore(line, b - 2, -1);
  const e2 = e1 > 0 ? spaceBefore(line, e1 - 1, -1) : -1;
  if (e2 <= 0 || sp !== e2) return false;
  const t = readApacheTime(line, b + 1);
  if (Number.isNaN(t)) return false;
  let i = b + 28;
  if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 1) !== 34) return false;
  const rq = line.indexOf('"', i + 2);
  if (rq < 0) return false;
  const bs = line.indexOf('\\', i + 2);
  if (bs >= 0 && bs < rq) return false;
  const rqStart = i + 2;
  i = rq + 1;
  if (line.charCodeAt(i) !== 32) return false;
  const statusEnd = numberFieldEnd(line, i + 1);
  if (statusEnd < 0 || line.charCodeAt(statusEnd) !== 32) return false;
  const bytesEnd = numberFieldEnd(line, statusEnd + 1);
  if (bytesEnd < 0) return false;
  i = bytesEnd;
  let combined = false;
  if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
    const rf = closingQuote(line, i + 2);
    if (rf < 0) return false;
    i = rf + 1;
    combined = true;
    if (line.charCodeAt(i) === 32 && line.charCodeAt(i + 1) === 34) {
      if (closingQuote(line, i + 2) < 0) return false;
    }
  } else if (i < line.length && line.charCodeAt(i) !== 32) {
    return false;
  }
  out.combined = combined;
  out.epochMs = t;
  out.status = numberFieldValue(line, rq + 2, statusEnd);
  out.clientIp = line.slice(0, sp);
  const empty = rq === rqStart || (rq === rqStart + 1 && line.charCodeAt(rqStart) === 45);
  out.path = empty ? undefined : pathOf(line, rqStart, rq);
  return true;
}
