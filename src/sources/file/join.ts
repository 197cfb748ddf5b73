// Joins continuation lines (stack traces) into one line per event, keeping the byte range the
// event covers: the checkpoint may only move past a joined event once all of it was emitted.

import type { RawLine } from './lines.js';
import type { MultilineOptions } from './options.js';

/** Continuation lines of a Java trace: `\tat ...`, `... 12 more`, `Caused by: ...`. */
const JAVA_CONTINUE = /^(?:\s+at\s|\s+\.\.\.\s\d+\s+more|\s*Caused by:|\s*Suppressed:|\s+)/;
/** Continuation lines of a Python traceback, including its closing `SomeError: text` line. */
const PYTHON_CONTINUE =
  /^(?:\s|Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b(?::|$))/;

export class LineJoiner {
  private group: RawLine[] = [];
  private lastAt = 0;
  private readonly startPattern?: RegExp;
  private readonly continuePattern?: RegExp;

  constructor(
    opts: MultilineOptions,
    readonly timeoutMs: number,
  ) {
    this.startPattern = opts.startPattern;
    this.continuePattern =
      opts.continuePattern ??
      (opts.preset === 'java'
        ? JAVA_CONTINUE
        : opts.preset === 'python'
          ? PYTHON_CONTINUE
          : undefined);
  }

  get pending(): boolean {
    return this.group.length > 0;
  }

  /** Adds a line; appends any event it completes to `out`. */
  push(line: RawLine, nowMs: number, out: RawLine[]): void {
    if (this.group.length > 0 && !this.continues(line.text)) this.flush(out);
    this.group.push(line);
    this.lastAt = nowMs;
  }

  /** Emits the pending event when no continuation came for timeoutMs. */
  flushIfIdle(nowMs: number, out: RawLine[]): void {
    if (this.group.length > 0 && nowMs - this.lastAt >= this.timeoutMs) this.flush(out);
  }

  flush(out: RawLine[]): void {
    const g = this.group;
    if (g.length === 0) return;
    this.group = [];
    if (g.length === 1) {
      out.push(g[0]);
      return;
    }
    const last = g[g.length - 1];
    const joined: RawLine = {
      text: g.map((l) => l.text).join('\n'),
      start: g[0].start,
      end: last.end,
    };
    const cut = g.find((l) => l.truncatedFromBytes !== undefined);
    if (cut) joined.truncatedFromBytes = cut.truncatedFromBytes;
    if (last.partial) joined.partial = true;
    out.push(joined);
  }

  /** Drops the pending event (the file was truncated under it). */
  clear(): void {
    this.group = [];
  }

  private continues(text: string): boolean {
    if (this.startPattern) return !this.startPattern.test(text);
    if (this.continuePattern) return this.continuePattern.test(text);
    return false;
  }
}
