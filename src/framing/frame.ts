// sluice frames: the framing layer of sluice's own wire protocol (docs/protocol.md).
// A connection starts with the preamble "SLUC" + a version byte, then carries frames, each a
// fixed 24-byte header and a payload. This file only splits bytes into frames and builds
// them; it knows nothing of records or codecs beyond the codec id carried in the flags.

import { ProtocolError } from '../errors.js';
import { crc32 } from '../codec/crc32.js';

export const MAGIC = Buffer.from('SLUC', 'ascii');
export const PROTOCOL_VERSION = 1;
export const PREAMBLE_BYTES = 5;
export const HEADER_BYTES = 24;

export const FRAME_TYPES = { hello: 1, batch: 2, ack: 3, error: 4, ping: 5 } as const;
export type FrameType = keyof typeof FRAME_TYPES;
const TYPE_BY_ID = new Map<number, FrameType>(
  Object.entries(FRAME_TYPES).map(([name, id]) => [id, name as FrameType]),
);

/** Codec ids carried in the low 4 bits of the flags byte. */
export const CODEC_IDS = { none: 0, gzip: 1, deflate: 2 } as const;
export type CodecName = keyof typeof CODEC_IDS;
const CODEC_BY_ID = new Map<number, CodecName>(
  Object.entries(CODEC_IDS).map(([name, id]) => [id, name as CodecName]),
);

/** Flag bit: this ping is the answer to a ping (a pong). */
export const FLAG_REPLY = 0x10;
/** Flag bit on an ack: the batch was a repeat and was not stored again. */
export const FLAG_DUPLICATE = 0x20;
const CODEC_MASK = 0x0f;
const KNOWN_FLAGS = CODEC_MASK | FLAG_REPLY | FLAG_DUPLICATE;

export interface Frame {
  type: FrameType;
  codec: CodecName;
  /** Flag bits other than the codec (FLAG_REPLY, FLAG_DUPLICATE). */
  flags: number;
  /** Batch sequence for batch/ack, nonce for ping, 0 otherwise. */
  sequence: number;
  /** Payload size once decompressed, as the sender declared it. */
  uncompressedBytes: number;
  /** Payload as carried on the wire (still compressed when codec is not none). */
  payload: Buffer;
}

export interface FrameInit {
  type: FrameType;
  codec?: CodecName;
  flags?: number;
  sequence?: number;
  uncompressedBytes?: number;
  payload?: Buffer;
}

/** The 5 bytes a sender writes once at connection start. */
export function encodePreamble(version = PROTOCOL_VERSION): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([version])]);
}

/** True when the first bytes of a connection start like a sluice connection. */
export function isSluiceStart(firstBytes: Buffer): boolean {
  const n = Math.min(firstBytes.length, MAGIC.length);
  return n > 0 && firstBytes.subarray(0, n).equals(MAGIC.subarray(0, n));
}

/** Builds one frame: header and payload as a list of two buffers (no copy of the payload). */
export function encodeFrameParts(init: FrameInit): [Buffer, Buffer] {
  const payload = init.payload ?? Buffer.alloc(0);
  const codec = init.codec ?? 'none';
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(FRAME_TYPES[init.type], 0);
  header.writeUInt8(CODEC_IDS[codec] | ((init.flags ?? 0) & ~CODEC_MASK), 1);
  header.writeUInt16BE(0, 2);
  header.writeBigUInt64BE(BigInt(init.sequence ?? 0), 4);
  header.writeUInt32BE(payload.length, 12);
  header.writeUInt32BE(init.uncompressedBytes ?? payload.length, 16);
  header.writeUInt32BE(crc32(payload), 20);
  return [header, payload];
}

export function encodeFrame(init: FrameInit): Buffer {
  return Buffer.concat(encodeFrameParts(init));
}

/** A JSON payload frame (hello, error, ack), uncompressed. */
export function jsonFrame(type: FrameType, body: unknown, sequence = 0, flags = 0): Buffer {
  return encodeFrame({ type, sequence, flags, payload: Buffer.from(JSON.stringify(body)) });
}

/** Reads a JSON payload (hello, error, ack); a payload that is not JSON is a protocol error. */
export function frameJson(frame: Frame): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(frame.payload.toString('utf8') || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below
  }
  throw new FrameError('bad_payload', `${frame.type} frame payload is not a JSON object`);
}

/** A protocol violation with a stable code, sent back to the peer in an error frame. */
export class FrameError extends ProtocolError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FrameDecoderOptions {
  /** Largest payload accepted on the wire, in bytes; larger frames are refused unread. */
  maxFrameBytes: number;
  /** Largest declared uncompressed payload, in bytes (the decompression cap). */
  maxUncompressedBytes: number;
  /** Expect the "SLUC"+version preamble before the first frame. */
  expectPreamble: boolean;
}

/**
 * Incremental frame decoder: push() any chunking of the byte stream and get whole frames out.
 * It buffers at most one header plus one payload within maxFrameBytes, and throws FrameError
 * on the first violation; after that the connection must be closed.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needPreamble: boolean;
  private failed = false;
  /** Protocol version the peer announced in its preamble. */
  peerVersion = 0;

  constructor(private readonly options: FrameDecoderOptions) {
    this.needPreamble = options.expectPreamble;
  }

  push(chunk: Buffer): Frame[] {
    if (this.failed) throw new FrameError('decoder_failed', 'decoder already failed');
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    try {
      if (this.needPreamble && !this.readPreamble()) return frames;
      for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    } catch (err) {
      this.failed = true;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
    return frames;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private readPreamble(): boolean {
    const head = this.peek(Math.min(this.buffered, PREAMBLE_BYTES));
    if (!isSluiceStart(head)) {
      throw new FrameError('bad_magic', 'connection does not start with "SLUC"');
    }
    if (head.length < PREAMBLE_BYTES) return false;
    const version = head[4];
    if (version !== PROTOCOL_VERSION) {
      throw new FrameError('unsupported_version', `protocol version ${version} is not supported`);
    }
    this.peerVersion = version;
    this.consume(PREAMBLE_BYTES);
    this.needPreamble = false;
    return true;
  }

  private next(): Frame | undefined {
    if (this.buffered < HEADER_BYTES) return undefined;
    const header = this.peek(HEADER_BYTES);
    const frame = this.checkHeader(header);
    const wireBytes = header.readUInt32BE(12);
    if (this.buffered < HEADER_BYTES + wireBytes) return undefined;
    this.consume(HEADER_BYTES);
    const payload = this.take(wireBytes);
    const expected = header.readUInt32BE(20);
    const actual = crc32(payload);
    if (actual !== expected) {
      throw new FrameError(
        'crc_mismatch',
        `${frame.type} frame ${frame.sequence}: CRC-32 ${hex(actual)} does not match ${hex(expected)}`,
      );
    }
    return { ...frame, payload };
  }

  private checkHeader(header: Buffer): Omit<Frame, 'payload'> {
    const type = TYPE_BY_ID.get(header[0]);
    if (!type) throw new FrameError('bad_type', `unknown frame type ${header[0]}`);
    const flagsByte = header[1];
    const codec = CODEC_BY_ID.get(flagsByte & CODEC_MASK);
    if (!codec || (flagsByte & ~KNOWN_FLAGS) !== 0) {
      throw new FrameError(
        'bad_flags',
        `${type} frame has unknown flags 0x${flagsByte.toString(16)}`,
      );
    }
    if (header.readUInt16BE(2) !== 0) {
      throw new FrameError('bad_header', `${type} frame has non-zero reserved bytes`);
    }
    const sequence = header.readBigUInt64BE(4);
    if (sequence > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FrameError('bad_sequence', `${type} frame sequence ${sequence} is too large`);
    }
    const wireBytes = header.readUInt32BE(12);
    const uncompressedBytes = header.readUInt32BE(16);
    if (wireBytes > this.options.maxFrameBytes) {
      throw new FrameError(
        'frame_too_large',
        `${type} frame of ${wireBytes} bytes exceeds the limit of ${this.options.maxFrameBytes}`,
      );
    }
    if (uncompressedBytes > this.options.maxUncompressedBytes) {
      throw new FrameError(
        'batch_too_large',
        `${type} frame declares ${uncompressedBytes} bytes uncompressed, ` +
          `over the limit of ${this.options.maxUncompressedBytes}`,
      );
    }
    if (codec === 'none' && uncompressedBytes !== wireBytes) {
      throw new FrameError(
        'length_mismatch',
        `${type} frame is uncompressed but declares ${uncompressedBytes} != ${wireBytes} bytes`,
      );
    }
    return {
      type,
      codec,
      flags: flagsByte & ~CODEC_MASK,
      sequence: Number(sequence),
      uncompressedBytes,
    };
  }

  /** The first n buffered bytes, without consuming them (copies only across chunk edges). */
  private peek(n: number): Buffer {
    if (this.chunks[0] && this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const out = this.peek(n);
    this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0];
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
