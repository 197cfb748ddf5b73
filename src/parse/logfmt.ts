// logfmt: `key=value key="quoted \" value" flag`. The keys JSON loggers use (time, level, msg…)
// become record fields the same way as for JSON; the rest go under `fields`.

import type { JsonValue, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { recordFromObject } from './json.js';
import { scalar } from './build.js';

function isKeyChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 46 ||
    c === 45 ||
    c === 64 ||
    c === 47
  );
}

/** The pairs of a logfmt line, or undefined when it is not logfmt (fewer than two pairs). */
export function readLogfmt(line: string): Record<string, JsonValue> | undefined {
  const out: Record<string, JsonValue> = {};
  let pairs = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n && isKeyChar(line.charCodeAt(i))) i++;
    if (i === ks) return undefined;
    const key = line.slice(ks, i);
    if (i >= n || line.charCodeAt(i) === 32) {
      // A bare key is a boolean flag in logfmt.
      out[key] = true;
      continue;
    }
    if (line.charCodeAt(i) !== 61) return undefined;
    i++;
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let from = i + 1;
      let j = from;
      for (;;) {
        if (j >= n) return undefined;
        const c = line.charCodeAt(j);
        if (c === 92) {
          value += line.slice(from, j);
          const e = line[j + 1];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : (e ?? '');
          j += 2;
          from = j;
          continue;
        }
        if (c === 34) break;
        j++;
      }
      value += line.slice(from, j);
      out[key] = value;
      i = j + 1;
      if (i < n && line.charCodeAt(i) !== 32) return undefined;
    } else {
      const sp = line.indexOf(' ', i);
      const end = sp < 0 ? n : sp;
      const raw = line.slice(i, end);
      if (raw.indexOf('"') >= 0) return undefined;
      if (raw.length > 0) out[key] = scalar(raw);
      i = end;
    }
    pairs++;
  }
  return pairs >= 2 ? out : undefined;
}

export function parseLogfmt(line: string, ctx: ParseContext, refMs: number): LogRecord | undefined {
  const c = line.charCodeAt(0);
  if (!isKeyChar(c)) return undefined;
  const eq = line.indexOf('=');
  if (eq <= 0 || eq > 64) return undefined;
  const obj = readLogfmt(line);
  if (!obj) return undefined;
  const rec = recordFromObject(obj, ctx, refMs);
  rec.format = 'logfmt';
  return rec;
}
