// Framing for syslog over a TCP byte stream, RFC 6587: octet counting (`MSG-LEN SP MSG`, §3.4.1)
// and, frame by frame, the older non-transparent framing (`<PRI>...LF`, §3.4.2), because
// rsyslog and syslog-ng senders may mix the two on one connection. The framer knows nothing of
// records: it turns bytes into frames.
//
// Oversize policy: a length prefix above maxFrameBytes, longer than 10 digits, or not followed
// by a space is a ProtocolError and the stream is unusable (there is no delimiter to resync
// on), so the caller closes the connection. A non-transparent frame longer than maxFrameBytes
// is the same error. Nothing is allocated for a frame before its length has been checked.

import { ProtocolError } from '../errors.js';

const SPACE = 0x20;
const LF = 0x0a;
const LT = 0x3c; // '<'
const ZERO = 0x30;
const NINE = 0x39;
/** 10 digits cover every length below 2^32; longer prefixes are rejected before parsing. */
const MAX_PREFIX_DIGITS = 10;

export interface OctetFramerOptions {
  /** Largest frame accepted, in bytes; larger ones end the stream with a ProtocolError. */
  maxFrameBytes: number;
}

type State =
  | { kind: 'start' }
  | { kind: 'length'; digits: number; value: number }
  | { kind: 'body'; remaining: number; parts: Buffer[] }
  | { kind: 'line'; bytes: number; parts: Buffer[] };

export class OctetCountingFramer {
  private state: State = { kind: 'start' };
  private readonly maxFrameBytes: number;

  constructor(options: OctetFramerOptions) {
    this.maxFrameBytes = options.maxFrameBytes;
  }

  /** True while part of a frame is buffered (a clean close would cut it). */
  get hasPartial(): boolean {
    return this.state.kind !== 'start';
  }

  /** Feeds bytes; calls onFrame for every complete frame, in order. Throws ProtocolError. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      pos = this.step(chunk, pos, onFrame);
    }
  }

  /**
   * At end of stream: a non-transparent frame without its final LF is still a whole message
   * (RFC 6587 §3.4.2 senders often omit the last trailer); an unfinished octet-counted frame
   * is reported as a ProtocolError since its sender promised more bytes.
   */
  end(onFrame: (frame: Buffer) => void): void {
    const s = this.state;
    this.state = { kind: 'start' };
    if (s.kind === 'line' && s.bytes > 0) onFrame(Buffer.concat(s.parts, s.bytes));
    else if (s.kind === 'body') {
      throw new ProtocolError(`octet-counted frame cut short: ${s.remaining} bytes missing`);
    } else if (s.kind === 'length') {
      throw new ProtocolError('stream ended inside an octet-count length prefix');
    }
  }

  private step(chunk: Buffer, pos: number, onFrame: (frame: Buffer) => void): number {
    const s = this.state;
    switch (s.kind) {
      case 'start':
        return this.startFrame(chunk, pos);
      case 'length':
        return this.readLength(s, chunk, pos);
      case 'body':
        return this.readBody(s, chunk, pos, onFrame);
      case 'line':
        return this.readLine(s, chunk, pos, onFrame);
    }
  }

  private startFrame(chunk: Buffer, pos: number): number {
    const b = chunk[pos];
    // Stray LF or CR between frames (some senders add a trailer after counted frames).
    if (b === LF || b === 0x0d) return pos + 1;
    if (b >= ZERO && b <= NINE) {
      this.state = { kind: 'length', digits: 0, value: 0 };
      return pos;
    }
    if (b === LT) {
      this.state = { kind: 'line', bytes: 0, parts: [] };
      return pos;
    }
    throw new ProtocolError(
      `syslog frame must start with a digit (octet count) or "<" (PRI); got byte 0x${hex(b)}`,
    );
  }

  private readLength(s: State & { kind: 'length' }, chunk: Buffer, pos: number): number {
    let i = pos;
    while (i < chunk.length) {
      const b = chunk[i];
      if (b === SPACE) {
        if (s.digits === 0) throw new ProtocolError('octet count missing before space');
        if (s.value === 0) throw new ProtocolError('octet count of 0 is not a frame');
        this.state = { kind: 'body', remaining: s.value, parts: [] };
        return i + 1;
      }
      if (b < ZERO || b > NINE) {
        throw new ProtocolError(`octet count contains byte 0x${hex(b)}; expected digits and SP`);
      }
      s.digits++;
      s.value = s.value * 10 + (b - ZERO);
      if (s.digits > MAX_PREFIX_DIGITS || s.value > this.maxFrameBytes) {
        throw new ProtocolError(
          `octet-counted frame larger than the ${this.maxFrameBytes}-byte limit`,
        );
      }
      i++;
    }
    return i;
  }

  private readBody(
    s: State & { kind: 'body' },
    chunk: Buffer,
    pos: number,
    onFrame: (frame: Buffer) => void,
  ): number {
    const take = Math.min(s.remaining, chunk.length - pos);
    const piece = chunk.subarray(pos, pos + take);
    s.remaining -= take;
    if (s.remaining > 0) {
      // Copy: a small slice would otherwise keep the whole 64 KiB read buffer alive.
      s.parts.push(Buffer.from(piece));
      return pos + take;
    }
    const frame = s.parts.length === 0 ? piece : Buffer.concat([...s.parts, piece]);
    this.state = { kind: 'start' };
    onFrame(frame);
    return pos + take;
  }

  private readLine(
    s: State & { kind: 'line' },
    chunk: Buffer,
    pos: number,
    onFrame: (frame: Buffer) => void,
  ): number {
    const nl = chunk.indexOf(LF, pos);
    const end = nl < 0 ? chunk.length : nl;
    if (s.bytes + (end - pos) > this.maxFrameBytes) {
      throw new ProtocolError(`syslog line longer than the ${this.maxFrameBytes}-byte limit`);
    }
    const piece = chunk.subarray(pos, end);
    if (nl < 0) {
      s.parts.push(Buffer.from(piece));
      s.bytes += piece.length;
      return chunk.length;
    }
    let frame = s.parts.length === 0 ? piece : Buffer.concat([...s.parts, piece]);
    if (frame.length > 0 && frame[frame.length - 1] === 0x0d) frame = frame.subarray(0, -1);
    this.state = { kind: 'start' };
    onFrame(frame);
    return nl + 1;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
