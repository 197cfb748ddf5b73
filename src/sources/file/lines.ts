// Splits a file's bytes into lines while keeping their byte offsets, which the checkpoint
// needs. A line longer than maxLineBytes is truncated at a UTF-8 character boundary and the
// rest of it, up to its newline, is skipped, so memory stays bounded by the limit.

export interface RawLine {
  /** The line's text without its newline (and without a trailing `\r`). */
  text: string;
  /** Offset of the line's first byte in the file. */
  start: number;
  /** Offset just past the line's newline (or its last byte when flushed without one). */
  end: number;
  /** Set when the line was cut: its full length in bytes. */
  truncatedFromBytes?: number;
  /** Set when the line had no newline and was emitted after the partial-line timeout. */
  partial?: boolean;
  /**
   * Set for a line read whole from one chunk: the offset of its first byte in the chunk
   * push() was given (valid until the next read into that chunk), for byte-level parsers.
   */
  at?: number;
  /**
   * With deferText: `text` is not decoded yet (it is ''); lineText() decodes it from the
   * chunk, at `at`, while that chunk is still valid.
   */
  deferred?: boolean;
}

const NEWLINE = 0x0a;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryStart = 0;
  /** Set while skipping the rest of an overlong line: the bytes seen so far of it. */
  private overlongBytes = -1;

  /**
   * Lines read whole from one chunk (not the first line of the file, which may start with a
   * byte order mark) come with their text undecoded, for a byte-level parser that may not
   * need it.
   */
  deferText = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes held for an incomplete line (kept, up to the limit). */
  get pendingBytes(): number {
    return this.overlongBytes >= 0 ? this.overlongBytes : this.carryBytes;
  }

  /** Offset of the first byte not yet part of a complete line. */
  get pendingStart(): number {
    return this.carryStart;
  }

  /** Forgets held bytes; the next chunk starts at `offset` (after truncation, say). */
  reset(offset: number): void {
    this.carry = [];
    this.carryBytes = 0;
    this.carryStart = offset;
    this.overlongBytes = -1;
  }

  /** Splits a chunk that starts at file offset `chunkStart`, appending lines to `out`. */
  push(chunk: Buffer, chunkStart: number, out: RawLine[]): void {
    if (this.carryBytes === 0 && this.overlongBytes < 0) this.carryStart = chunkStart;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) {
        this.hold(chunk.subarray(pos));
        return;
      }
      const lineStart = this.carryStart;
      const end = chunkStart + nl + 1;
      if (this.overlongBytes >= 0) {
        out.push(this.finishOverlong(chunk.subarray(pos, nl), lineStart, end));
      } else if (this.carryBytes > 0) {
        this.hold(chunk.subarray(pos, nl));
        if (this.overlongBytes >= 0) out.push(this.finishOverlong(Buffer.alloc(0), lineStart, end));
        else out.push(this.line(Buffer.concat(this.carry, this.carryBytes), lineStart, end));
      } else if (nl - pos > this.maxLineBytes) {
        const text = decodeCut(chunk.subarray(pos, pos + this.maxLineBytes));
        out.push({ text, start: lineStart, end, truncatedFromBytes: nl - pos });
      } else if (this.deferText && lineStart > 0) {
        out.push({ text: '', start: lineStart, end, at: pos, deferred: true });
      } else {
        const line = this.line(chunk.subarray(pos, nl), lineStart, end);
        line.at = pos;
        out.push(line);
      }
      this.reset(end);
      pos = nl + 1;
    }
  }

  /** Emits the held bytes as a line with no newline (partial-line timeout or shutdown). */
  flushPartial(out: RawLine[]): void {
    const held = this.pendingBytes;
    if (held === 0) return;
    const start = this.carryStart;
    const end = start + held;
    if (this.overlongBytes >= 0) out.push({ ...this.finishOverlong(Buffer.alloc(0), start, end) });
    else out.push({ ...this.line(Buffer.concat(this.carry, this.carryBytes), start, end) });
    out[out.length - 1].partial = true;
    this.reset(end);
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.overlongBytes >= 0) {
      this.overlongBytes += bytes.length;
      return;
    }
    if (this.carryBytes + bytes.length > this.maxLineBytes) {
      // Keep only the first maxLineBytes; count the rest without storing it.
      const room = this.maxLineBytes - this.carryBytes;
      this.carry.push(Buffer.from(bytes.subarray(0, room)));
      this.overlongBytes = this.carryBytes + bytes.length;
      this.carryBytes = this.maxLineBytes;
      return;
    }
    // Copy: the chunk buffer is reused by the reader for the next read.
    this.carry.push(Buffer.from(bytes));
    this.carryBytes += bytes.length;
  }

  private finishOverlong(tail: Buffer, start: number, end: number): RawLine {
    const total = this.overlongBytes + tail.length;
    const text = decodeCut(Buffer.concat(this.carry, this.carryBytes));
    return { text, start, end, truncatedFromBytes: total };
  }

  private line(bytes: Buffer, start: number, end: number): RawLine {
    let len = bytes.length;
    if (len > 0 && bytes[len - 1] === 0x0d) len--;
    let from = 0;
    // A UTF-8 byte order mark at the very start of a file is not part of the first line.
    if (start === 0 && len >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      from = 3;
    }
    return { text: bytes.toString('utf8', from, len), start, end };
  }
}

/** The text of a deferred line (see RawLine.deferred), as LineSplitter would have decoded it. */
export function lineText(chunk: Buffer, line: RawLine): string {
  const at = line.at as number;
  let end = at + (line.end - line.start) - 1;
  if (end > at && chunk[end - 1] === 0x0d) end--;
  return chunk.toString('utf8', at, end);
}

/** Decodes bytes cut at an arbitrary point, dropping a trailing incomplete UTF-8 sequence. */
export function decodeCut(bytes: Buffer): string {
  let end = bytes.length;
  // Walk back over continuation bytes to the lead byte of the last character.
  let i = end - 1;
  while (i >= 0 && i > end - 4 && (bytes[i] & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = bytes[i];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return bytes.toString('utf8', 0, end);
}
