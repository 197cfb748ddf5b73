// Newline framing for the collector, with the lines of a read handed over as byte ranges of
// the read itself when the decoder can use them (the syslog fast path), and as text otherwise.
// It follows NewlineFramer (src/framing/newline.ts) step for step — the same 64 KiB regions,
// the same carry of an unterminated tail, CRLF → LF, a BOM dropped from the stream's first
// line, blank lines skipped — with the network policy on top: a line longer than
// maxLineBytes is a ProtocolError (the connection is cut), never a truncated record.
//
// A byte range goes to `onBytes` only where NewlineFramer would have emitted that line
// untouched: a complete line inside one read, not the stream's first line, not a line that
// might break the limit. Decoding such a range as UTF-8 gives the line NewlineFramer emits (LF
// and CR are ASCII, so a line decodes the same alone as inside its region).

import { ProtocolError } from '../errors.js';
import type { ByteFrameSink, StreamFramer } from '../sources/tcp.js';

const SLICE_BYTES = 64 * 1024;
const LF = 10;
const CR = 13;

export class NetLineFramer implements StreamFramer {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private first = true;

  constructor(private readonly max: number) {}

  push(chunk: Buffer, onFrame: (frame: string) => void, onBytes?: ByteFrameSink): void {
    let start = 0;
    if (this.carryBytes > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.hold(chunk);
        return;
      }
      this.hold(chunk.subarray(0, nl));
      this.carried(onFrame, onBytes);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(LF);
    while (last >= start) {
      let end = start + SLICE_BYTES >= last ? last : chunk.indexOf(LF, start + SLICE_BYTES);
      if (end < 0 || end > last) end = last;
      this.frameRegion(chunk, start, end, onFrame, onBytes);
      start = end + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
  }

  end(onFrame: (frame: string) => void): void {
    if (this.carryBytes > 0) this.out(this.takeCarry(), onFrame);
    this.carry = [];
    this.carryBytes = 0;
  }

  /** The line carried over from earlier reads, now complete (hold() checked its size). */
  private carried(onFrame: (frame: string) => void, onBytes: ByteFrameSink | undefined): void {
    if (onBytes === undefined || this.first) {
      this.out(this.takeCarry(), onFrame);
      return;
    }
    const line = this.carry.length === 1 ? this.carry[0] : Buffer.concat(this.carry);
    this.carry = [];
    this.carryBytes = 0;
    const n = line.length;
    const end = n > 0 && line[n - 1] === CR ? n - 1 : n;
    if (end > 0) onBytes(line, 0, end);
  }

  /** The lines of chunk[start, last), each ending at an LF (chunk[last] is one). */
  private frameRegion(
    chunk: Buffer,
    start: number,
    last: number,
    onFrame: (frame: string) => void,
    onBytes: ByteFrameSink | undefined,
  ): void {
    const mayOverflow = last - start > this.max;
    let pos = start;
    for (;;) {
      let nl = chunk.indexOf(LF, pos);
      if (nl < 0 || nl > last) nl = last;
      // NewlineFramer checks a line against the limit after decoding (an invalid byte becomes
      // three); such lines, and the stream's first line (BOM), take its text path.
      if (onBytes === undefined || this.first || (mayOverflow && (nl - pos) * 3 > this.max)) {
        this.textLine(chunk.toString('utf8', pos, nl), mayOverflow, onFrame);
      } else {
        const end = nl > pos && chunk[nl - 1] === CR ? nl - 1 : nl;
        if (end > pos) onBytes(chunk, pos, end);
      }
      if (nl >= last) return;
      pos = nl + 1;
    }
  }

  private textLine(line: string, mayOverflow: boolean, onFrame: (frame: string) => void): void {
    if (mayOverflow && line.length * 3 > this.max && Buffer.byteLength(line) > this.max) {
      throw this.tooLong();
    }
    this.out(line, onFrame);
  }

  /** Keeps an unterminated tail; past the limit the connection is cut. */
  private hold(part: Buffer): void {
    if (part.length === 0) return;
    if (this.carryBytes + part.length > this.max) throw this.tooLong();
    // Copy: a view would pin the whole read buffer for a short tail.
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

  private out(line: string, onFrame: (frame: string) => void): void {
    let l = line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
    if (this.first) {
      this.first = false;
      if (l.charCodeAt(0) === 0xfeff) l = l.slice(1);
    }
    if (l.length > 0) onFrame(l);
  }

  private tooLong(): ProtocolError {
    return new ProtocolError(`line longer than the ${this.max}-byte limit`);
  }
}
