// Access-log facts read straight off a line's bytes: where the request is, the status, and the
// request path, without decoding the line or building a record. It follows the access parser's
// steps (findTime, the time, the client fields, the request's closing quote, the status and
// bytes fields, the quoted referrer and user agent, splitRequest) on lines without a backslash
// (the caller checks) and with plain ASCII before the time (UTF-8 after it changes no byte the
// steps look at, as multi-byte characters hold no ASCII bytes); anything it is not sure the parser
// would read the same way is left undecided, and the caller then takes the line the slow way.

import { readApacheTime } from '../../parse/time.js';
import { BRACKET_CLOSE, BRACKET_OPEN, DASH, QUESTION, QUOTE, SLASH, SPACE, TAB } from './bytes.js';

/** What readRawAccess found on one line; offsets are into the buffer. */
export interface RawAccessLine {
  /** The request text, between its quotes. */
  requestStart: number;
  requestEnd: number;
  /** -1 when written as `-`. */
  status: number;
  /** Offset just after the status digits. */
  statusEnd: number;
}

/** How far into the line the parser looks for the time (findTime). */
const TIME_SEARCH_BYTES = 512;

/** A fresh holder for readRawAccess (reused line after line). */
export function rawAccessLine(): RawAccessLine {
  return { requestStart: 0, requestEnd: 0, status: -1, statusEnd: 0 };
}

/**
 * True when the parser's format detection (parse/detect.ts) tries the access parser on a line
 * starting like this before any parser that could also take it: not for `<`, `{`, `[`, a space
 * or a tab, nor for a word that could start a syslog time (`Mmm `).
 */
function accessFirst(buf: Buffer, s: number): boolean {
  const c = buf[s];
  if (c >= 48 && c <= 57) return true;
  if (c === 60 || c === 123 || c === 91 || c === SPACE || c === TAB) return false;
  const upper = c >= 65 && c <= 90;
  if (upper && isLower(buf[s + 1]) && isLower(buf[s + 2]) && buf[s + 3] === SPACE) return false;
  return true;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** The time text of the last line whose time was valid, to skip re-reading equal ones. */
const TIME_BYTES = 26;
const lastTime = Buffer.alloc(TIME_BYTES);
let lastTimeValid = false;

/**
 * Reads the line buf[s, e), which has no backslash. True when the parser reads it as an access
 * line (common or combined) and `out` holds the request and status it would find; false when
 * undecided (which includes lines that are not access lines at all).
 */
export function readRawAccess(buf: Buffer, s: number, e: number, out: RawAccessLine): boolean {
  if (!accessFirst(buf, s)) return false;
  const t = findTimeRaw(buf, s, e);
  if (t < s + 5 || !validTime(buf, t + 1)) return false;
  // `%h %l %u` before the time: two spaces before the one in front of `[`.
  let e1 = t - 2;
  while (e1 > s && buf[e1] !== SPACE) e1--;
  let e2 = e1 - 1;
  while (e2 > s && buf[e2] !== SPACE) e2--;
  if (e2 <= s) return false;
  // `[dd/Mon/yyyy:hh:mm:ss +zzzz] "`: the request's opening quote is 29 bytes after `[`.
  if (buf[t + 28] !== SPACE || buf[t + 29] !== QUOTE) return false;
  // Short fields: a byte loop is cheaper than a native call.
  let j = t + 30;
  while (j < e && buf[j] !== QUOTE) j++;
  if (j >= e) return false;
  if (buf[j + 1] !== SPACE) return false;
  let i = j + 2;
  let status = 0;
  if (buf[i] === DASH) {
    status = -1;
    i++;
  } else {
    const from = i;
    for (; i < e; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      status = status * 10 + d;
    }
    // Beyond 15 digits a number is no longer exact; let the parser decide.
    if (i === from || i - from > 15) return false;
  }
  if (buf[i] !== SPACE) return false;
  const statusEnd = i;
  // The bytes field, then nothing, a space, or the quoted referrer and maybe user agent.
  i++;
  if (buf[i] === DASH) i++;
  else {
    const from = i;
    while (i < e && buf[i] >= 48 && buf[i] <= 57) i++;
    if (i === from) return false;
  }
  if (buf[i] === SPACE && buf[i + 1] === QUOTE) {
    let rf = i + 2;
    while (rf < e && buf[rf] !== QUOTE) rf++;
    if (rf >= e) return false;
    i = rf + 1;
    // The user agent only needs a closing quote somewhere: usually the line's last byte.
    if (buf[i] === SPACE && buf[i + 1] === QUOTE && !(buf[e - 1] === QUOTE && e - 1 >= i + 2)) {
      const ue = buf.indexOf(QUOTE, i + 2);
      if (ue < 0 || ue >= e) return false;
    }
  } else if (i < e && buf[i] !== SPACE) return false;
  out.requestStart = t + 30;
  out.requestEnd = j;
  out.status = status;
  out.statusEnd = statusEnd;
  return true;
}

/** buf[at, at + 26) equals the last valid time, compared from the end (seconds change first). */
function sameTime(buf: Buffer, at: number): boolean {
  for (let k = TIME_BYTES - 1; k >= 0; k--) if (buf[at + k] !== lastTime[k]) return false;
  return true;
}

/** True when the 26 bytes at `at` are a time the parser reads (readApacheTime). */
function validTime(buf: Buffer, at: number): boolean {
  if (lastTimeValid && sameTime(buf, at)) return true;
  const ok = !Number.isNaN(readApacheTime(buf.toString('latin1', at, at + TIME_BYTES), 0));
  if (ok) {
    // A byte loop: Buffer#copy costs about a microsecond per call in its argument checks.
    for (let k = 0; k < TIME_BYTES; k++) lastTime[k] = buf[at + k];
    lastTimeValid = true;
  }
  return ok;
}

/**
 * The `[` of the time field as findTime finds it (` [` with `/` 3 bytes and `]` 27 bytes after
 * the `[`), or -1; -1 too when a non-ASCII byte comes first, since the parser counts characters.
 */
function findTimeRaw(buf: Buffer, s: number, e: number): number {
  const limit = Math.min(e, s + TIME_SEARCH_BYTES);
  for (let i = s; i < limit; i++) {
    const c = buf[i];
    if (c >= 128) return -1;
    if (c === SPACE && buf[i + 1] === BRACKET_OPEN) {
      // The time's bytes are checked by validTime, which takes only ASCII.
      if (buf[i + 28] === BRACKET_CLOSE && buf[i + 4] === SLASH) return i + 1;
    }
  }
  return -1;
}

/**
 * The request path as splitRequest reads it (`METHOD TARGET[ HTTP/x]`, the target up to `?`):
 * its [start, end) in `out`; false when the request has no path.
 */
export function rawRequestPath(
  buf: Buffer,
  line: RawAccessLine,
  out: { start: number; end: number },
): boolean {
  const rs = line.requestStart;
  const re = line.requestEnd;
  let sp1 = rs;
  while (sp1 < re && buf[sp1] !== SPACE) sp1++;
  if (sp1 === re || sp1 === rs || sp1 - rs > 24) return false;
  for (let k = rs; k < sp1; k++) {
    const c = buf[k];
    if (!((c >= 65 && c <= 90) || c === 95 || c === DASH)) return false;
  }
  let sp2 = re - 1;
  while (sp2 > sp1 && buf[sp2] !== SPACE) sp2--;
  let targetEnd = re;
  if (sp2 > sp1) {
    // A second space: only `TARGET HTTP/x` is a request line.
    if (!isHttpAt(buf, sp2 + 1, re)) return false;
    targetEnd = sp2;
  }
  if (targetEnd === sp1 + 1) return false;
  let pe = sp1 + 1;
  while (pe < targetEnd && buf[pe] !== QUESTION) pe++;
  out.start = sp1 + 1;
  out.end = pe;
  return true;
}

/** `HTTP/` at buf[at] before `end`. */
function isHttpAt(buf: Buffer, at: number, end: number): boolean {
  return (
    at + 5 <= end &&
    buf[at] === 72 &&
    buf[at + 1] === 84 &&
    buf[at + 2] === 84 &&
    buf[at + 3] === 80 &&
    buf[at + 4] === SLASH
  );
}
