// Newline framing: bytes in, lines out. Works on whole chunks (one UTF-8 decode and one split
// per chunk, not per line); only the tail after a chunk's last newline is carried over.
//
// Policy for a line longer than maxLineBytes: it is cut at that many bytes (at a UTF-8
// character boundary), emitted at once with `truncated = true`, and the rest of it is
// discarded up to the next newline. Memory per framer stays below maxLineBytes plus a chunk.
// Also: CRLF → LF, a UTF-8 BOM at the start of the stream is dropped, invalid UTF-8 → U+FFFD.

import { DEFAULT_MAX_LINE_BYTES } from '../parse/options.js';

const SLICE_BYTES = 64 * 1024;

/** Receives one line (without its newline) and whether it was cut at maxLineBytes. */
export type LineSink = (line: string, truncated: boolean) => void;

/**
 * A consumer that may take some lines as bytes, before they are decoded (a fast path). Only
 * lines wholly inside one chunk and at most maxLineBytes long are offered; lines it declines
 * reach the LineSink as usual, in input order with the taken ones.
 */
export interface ByteLineTaker {
  /**
   * Whether the line starting at `start` (ending at a `\n` inside `buf`) has the shape the
   * taker wants: the index of its newline, or -1. No side effects beyond remembering it.
   */
  scan(buf: Buffer, start: number): number;
  /**
   * Takes the line scan() just accepted, once every earlier line was delivered; false when it
   * declines after all (then the line goes to the LineSink).
   */
  take(buf: Buffer, start: number, end: number): boolean;
}

export interface NewlineFramerOptions {
  /** Longest line kept whole, in bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** Offered each line first (see ByteLineTaker). */
  taker?: ByteLineTaker;
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** The first `max` bytes of `buf`, cut back to a UTF-8 character boundary. */
function cutUtf8(buf: Buffer, max: number): string {
  let cut = Math.min(max, buf.length);
  if (cut < buf.length) {
    while (cut > 0 && (buf[cut] & 0xc0) === 0x80) cut--;
  }
  return buf.toString('utf8', 0, cut);
}

export class NewlineFramer {
  /** Lines emitted so far. */
  lines = 0;
  /** Lines cut at maxLineBytes so far. */
  truncatedLines = 0;
  private readonly max: number;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private discarding = false;
  private first = true;
  private readonly taker: ByteLineTaker | undefined;

  constructor(opts: NewlineFramerOptions = {}) {
    this.max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.taker = opts.taker;
  }

  /**
   * Frames one chunk. With `emit`, lines are passed to it and an empty array is returned;
   * without, the complete lines are returned.
   */
  push(chunk: Buffer, emit?: LineSink): string[] {
    const collected: string[] = [];
    const sink: LineSink = emit ?? ((line) => void collected.push(line));
    let start = 0;
    if (this.carryBytes > 0 || this.discarding) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.hold(chunk, sink);
        return collected;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        this.hold(chunk.subarray(0, nl), sink);
        if (!this.discarding) this.out(this.takeCarry(), false, sink);
        this.discarding = false;
      }
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    // Decode in slices of about 64 KiB: a whole 1 MiB chunk's text and line array would outlive
    // young-generation collections and be promoted, growing the old space (and RSS) fast.
    while (last >= start) {
      let end = start + SLICE_BYTES >= last ? last : chunk.indexOf(10, start + SLICE_BYTES);
      if (end < 0 || end > last) end = last;
      if (this.taker) this.offerRegion(chunk, start, end, sink, this.taker);
      else this.frameRegion(chunk, start, end, sink);
      start = end + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start), sink);
    return collected;
  }

  /** Ends the stream: the last line when it had no newline, else undefined. */
  end(emit?: LineSink): string | undefined {
    let line: string | undefined;
    if (this.carryBytes > 0 && !this.discarding) {
      line = this.takeCarry();
      line = this.out(line, false, emit ?? (() => undefined));
    }
    this.carry = [];
    this.carryBytes = 0;
    this.discarding = false;
    return line;
  }

  /** Lines of chunk[start, last) — every one complete, separated by single LF bytes. */
  private frameRegion(
    chunk: Buffer,
    start: number,
    last: number,
    sink: LineSink,
    mayOverflow = last - start > this.max,
  ): void {
    const text = chunk.toString('utf8', start, last);
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const line = parts[i];
      if (mayOverflow && line.length * 3 > this.max) {
        const bytes = Buffer.from(line, 'utf8');
        if (bytes.length > this.max) {
          this.truncatedLines++;
          this.out(cutUtf8(bytes, this.max), true, sink);
          continue;
        }
      }
      this.out(line, false, sink);
    }
  }

  /**
   * Lines of chunk[start, last) offered to the taker one by one; runs of declined lines are
   * decoded together by frameRegion(), each run before the next taken line.
   */
  private offerRegion(
    chunk: Buffer,
    start: number,
    last: number,
    sink: LineSink,
    taker: ByteLineTaker,
  ): void {
    // Whether lines may be cut is decided for the whole region, as frameRegion() does for it.
    const mayOverflow = last - start > this.max;
    let run = start;
    let s = start;
    while (s <= last) {
      let e = taker.scan(chunk, s);
      if (e >= 0 && e <= last && e - s <= this.max) {
        if (run < s) {
          this.frameRegion(chunk, run, s - 1, sink, mayOverflow);
          run = s;
        }
        if (taker.take(chunk, s, e)) {
          this.first = false;
          this.lines++;
          run = e + 1;
        }
      } else {
        e = chunk.indexOf(10, s);
        if (e < 0 || e > last) e = last;
      }
      s = e + 1;
    }
    if (run <= last) this.frameRegion(chunk, run, last, sink, mayOverflow);
  }

  /** Keeps an unterminated tail; past maxLineBytes it is cut, emitted and the rest dropped. */
  private hold(part: Buffer, sink: LineSink): void {
    if (this.discarding || part.length === 0) return;
    if (this.carryBytes + part.length > this.max) {
      this.carry.push(part);
      const whole = Buffer.concat(this.carry);
      this.carry = [];
      this.carryBytes = 0;
      this.discarding = true;
      this.truncatedLines++;
      this.out(cutUtf8(whole, this.max), true, sink);
      return;
    }
    // Copy: a view would pin the whole (1 MiB) read buffer for a short tail.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  private takeCarry(): string {
    const s =
      this.carry.length === 1
        ? this.carry[0].toString('utf8')
        : Buffer.concat(this.carry).toString('utf8');
    this.carry = [];
    this.carryBytes = 0;
    return s;
  }

  private out(line: string, truncated: boolean, sink: LineSink): string {
    let l = stripCr(line);
    if (this.first) {
      this.first = false;
      if (l.charCodeAt(0) === 0xfeff) l = l.slice(1);
    }
    this.lines++;
    sink(l, truncated);
    return l;
  }
}
