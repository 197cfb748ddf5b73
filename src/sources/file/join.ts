// Joins continuation lines (stack traces) into one event with the shared multiline joiner of
// src/parse, and keeps the byte range each event covers: the checkpoint may only move past
// an event once all of its lines were emitted.

import { createMultiline, type Multiline } from '../../parse/index.js';
import type { RawLine } from './lines.js';
import type { MultilineOptions } from './options.js';

export class LineJoiner {
  private readonly multiline: Multiline;
  /** Lines handed to the joiner whose event is not complete yet, oldest first. */
  private held: RawLine[] = [];
  private lastAt = 0;

  constructor(
    private readonly opts: MultilineOptions,
    readonly timeoutMs: number,
  ) {
    this.multiline = createMultiline({ startPattern: opts.startPattern, preset: opts.preset });
  }

  get pending(): boolean {
    return this.held.length > 0;
  }

  /** Offset of the first line not yet part of an emitted event. */
  get heldStart(): number | undefined {
    return this.held[0]?.start;
  }

  /** Adds a line; appends any event it completes to `out`. */
  push(line: RawLine, nowMs: number, out: RawLine[]): void {
    this.held.push(line);
    this.lastAt = nowMs;
    for (const text of this.multiline.push(line.text)) out.push(this.event(text));
  }

  /** Emits the pending event when no continuation came for timeoutMs. */
  flushIfIdle(nowMs: number, out: RawLine[]): void {
    if (this.held.length > 0 && nowMs - this.lastAt >= this.timeoutMs) this.flush(out);
  }

  flush(out: RawLine[]): void {
    for (const text of this.multiline.flush()) out.push(this.event(text));
  }

  /** Drops the pending event (the file was truncated under it). */
  clear(): void {
    this.multiline.flush();
    this.held = [];
  }

  /**
   * Pairs an event with the lines it was made of. Lines never hold a newline (the splitter
   * cuts on it), so an event of k lines holds k-1 newlines.
   */
  private event(text: string): RawLine {
    let count = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
    const lines = this.held.splice(0, count);
    const first = lines[0];
    const last = lines[lines.length - 1];
    const ev: RawLine = { text, start: first.start, end: last.end };
    const cut = lines.find((l) => l.truncatedFromBytes !== undefined);
    if (cut) ev.truncatedFromBytes = cut.truncatedFromBytes;
    if (last.partial) ev.partial = true;
    return ev;
  }
}
