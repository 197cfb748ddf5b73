// Kubernetes CRI container log lines: `<RFC 3339 time> stdout|stderr P|F <text>`. `P` marks a
// partial line continued by the next line of the same stream; the line parser joins them.

import type { ParseContext } from './context.js';
import { readIsoTime } from './time.js';

export interface CriLine {
  epochMs: number;
  stream: string;
  partial: boolean;
  text: string;
}

export function readCri(line: string, ctx: ParseContext): CriLine | undefined {
  const c = line.charCodeAt(0);
  if (c < 48 || c > 57 || line.charCodeAt(10) !== 84) return undefined;
  const t = readIsoTime(line, 0, ctx.zone);
  if (!t || line.charCodeAt(t.end) !== 32) return undefined;
  const i = t.end + 1;
  let stream: string;
  if (line.startsWith('stdout ', i)) stream = 'stdout';
  else if (line.startsWith('stderr ', i)) stream = 'stderr';
  else return undefined;
  const tag = line.charCodeAt(i + 7);
  if (tag !== 80 && tag !== 70) return undefined;
  const after = line.charCodeAt(i + 8);
  if (i + 8 < line.length && after !== 32) return undefined;
  return {
    epochMs: t.epochMs,
    stream,
    partial: tag === 80,
    text: i + 9 <= line.length ? line.slice(i + 9) : '',
  };
}
