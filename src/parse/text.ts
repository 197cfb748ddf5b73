// The fallback: a line in no supported format is kept whole as a `text` record with `raw` and
// `parse_error`, never dropped. A leading ISO time and level word are still picked up, since
// many home-grown formats start with them (`2024-05-01T10:00:00Z INFO started`).

import type { Level, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { newRecord } from './build.js';
import { levelFromWord } from './level.js';
import { readIsoTime } from './time.js';

function leadingLevel(line: string, at: number): Level | undefined {
  let i = at;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  if (line.charCodeAt(i) === 91) i++;
  const start = i;
  while (i < line.length && i - start < 12) {
    const c = line.charCodeAt(i) | 0x20;
    if (c < 97 || c > 122) break;
    i++;
  }
  return i > start ? levelFromWord(line.slice(start, i)) : undefined;
}

/** Time and level found at the start of an otherwise unknown line, if any. */
export function sniffTimeAndLevel(
  line: string,
  ctx: ParseContext,
): { epochMs: number; level?: Level } | undefined {
  let i = 0;
  if (line.charCodeAt(0) === 91) i = 1;
  const c = line.charCodeAt(i);
  if (c < 48 || c > 57) return undefined;
  const t = readIsoTime(line, i, ctx.zone);
  if (!t) return undefined;
  let end = t.end;
  if (i === 1 && line.charCodeAt(end) === 93) end++;
  return { epochMs: t.epochMs, level: leadingLevel(line, end) };
}

export function textRecord(
  line: string,
  ctx: ParseContext,
  refMs: number,
  parseError: string | undefined,
): LogRecord {
  const sniff = sniffTimeAndLevel(line, ctx);
  const rec = newRecord(sniff ? sniff.epochMs : refMs, refMs, sniff?.level ?? 'info', line, 'text');
  if (parseError !== undefined) {
    rec.raw = line;
    rec.parse_error = parseError;
  }
  return rec;
}
