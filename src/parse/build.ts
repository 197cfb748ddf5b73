// The one place records are first made, so every parser gives objects of the same shape
// (same key order, which also keeps V8's hidden classes few on the hot path).

import type { Format, Level, LogRecord } from '../record/record.js';
import { SEVERITY } from '../record/record.js';
import { isoMs } from './time.js';

export function newRecord(
  epochMs: number,
  refMs: number,
  level: Level,
  message: string,
  format: Format,
): LogRecord {
  return {
    timestamp: isoMs(epochMs, refMs),
    level,
    severity: SEVERITY[level],
    message,
    format,
  };
}

/** Undoes backslash escapes (`\"` → `"`, `\\` → `\`); other escapes stay as written. */
export function unescapeQuoted(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 92) continue;
    const next = s.charCodeAt(i + 1);
    if (next === 34 || next === 92 || next === 93) {
      out += s.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + s.slice(from);
}

/** Index of the `"` that closes a quoted field opened just before `from`, honouring `\`. */
export function closingQuote(s: string, from: number): number {
  let q = s.indexOf('"', from);
  if (q < 0) return -1;
  const bs = s.indexOf('\\', from);
  if (bs < 0 || bs > q) return q;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  q = -1;
  return q;
}

/** A logfmt/JSON-ish scalar: canonical numbers become numbers, other text stays text. */
export function scalar(text: string): string | number {
  const c = text.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    const n = Number(text);
    if (Number.isSafeInteger(n) || (Number.isFinite(n) && String(n) === text)) {
      if (String(n) === text) return n;
    }
  }
  return text;
}
