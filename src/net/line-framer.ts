// Newline framing for collector connections (NDJSON, plain text, newline-framed syslog).
// Policy for the network, which differs from a file's: a line longer than maxLineBytes is a
// ProtocolError and the client is cut off (a file tailer truncates and carries on instead).
// The check runs on the bytes buffered so far, so a 10 MB line with no newline costs at most
// maxLineBytes of memory before the connection ends. A trailing CR is removed (CRLF senders).

import { ProtocolError } from '../errors.js';

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  private parts: Buffer[] = [];
  private partBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      const piece = chunk.subarray(pos, nl);
      if (this.partBytes + piece.length > this.maxLineBytes) this.tooLong();
      if (this.partBytes === 0) {
        emit(piece, onFrame);
      } else {
        this.parts.push(piece);
        const line = Buffer.concat(this.parts, this.partBytes + piece.length);
        this.parts = [];
        this.partBytes = 0;
        emit(line, onFrame);
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      if (this.partBytes + rest.length > this.maxLineBytes) this.tooLong();
      // Copy: the chunk may be a pooled buffer reused by the next read.
      this.parts.push(Buffer.from(rest));
      this.partBytes += rest.length;
    }
  }

  /** A last line without its newline is still a line (case 13 of the shared cases). */
  end(onFrame: (frame: Buffer) => void): void {
    if (this.partBytes === 0) return;
    const line = Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    emit(line, onFrame);
  }

  private tooLong(): never {
    throw new ProtocolError(`line longer than the ${this.maxLineBytes}-byte limit`);
  }
}

function emit(line: Buffer, onFrame: (frame: Buffer) => void): void {
  const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  // Blank lines (keep-alives, CRLF pairs) carry no record.
  if (end > 0) onFrame(line.subarray(0, end));
}
