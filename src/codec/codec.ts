// Codecs: compress and decompress a batch payload with none, gzip or deflate (zlib format).
// Decompression always runs with an output cap, so a small payload that inflates to gigabytes
// (a decompression bomb) is stopped by zlib at the cap instead of filling memory.

import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { ConfigError, ProtocolError } from '../errors.js';

export const CODECS = ['none', 'gzip', 'deflate'] as const;
export type Codec = (typeof CODECS)[number];

/** Levels zlib accepts; 1 is fastest, 9 smallest. */
export const MIN_LEVEL = 1;
export const MAX_LEVEL = 9;
export const DEFAULT_LEVEL = 6;

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

export function isCodec(value: string): value is Codec {
  return (CODECS as readonly string[]).includes(value);
}

export function parseCodec(text: string, what = '--compress'): Codec {
  if (!isCodec(text)) {
    throw new ConfigError(`${what}: "${text}" is not a codec; use none, gzip or deflate.`);
  }
  return text;
}

export function parseLevel(text: string, what = '--level'): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < MIN_LEVEL || n > MAX_LEVEL) {
    throw new ConfigError(`${what}: "${text}" is not a level; use a whole number from 1 to 9.`);
  }
  return n;
}

/** Compresses off the main thread (zlib's thread pool); `none` returns the input as is. */
export async function compress(payload: Buffer, codec: Codec, level = DEFAULT_LEVEL) {
  switch (codec) {
    case 'none':
      return payload;
    case 'gzip':
      return gzip(payload, { level });
    case 'deflate':
      return deflate(payload, { level });
  }
}

/** The same, synchronously (for the benchmark and for callers already off the hot path). */
export function compressSync(payload: Buffer, codec: Codec, level = DEFAULT_LEVEL): Buffer {
  if (codec === 'gzip') return zlib.gzipSync(payload, { level });
  if (codec === 'deflate') return zlib.deflateSync(payload, { level });
  return payload;
}

/** A payload whose decompressed size is wrong or over the limit; `code` goes in the error frame. */
export class DecompressError extends ProtocolError {
  constructor(
    readonly code: 'decompressed_too_large' | 'decompressed_size_mismatch' | 'bad_compressed_data',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decompresses `payload` that its sender says inflates to exactly `declaredBytes`. zlib stops
 * at declaredBytes (maxOutputLength), so at most that much memory is used; fewer bytes than
 * declared is refused as well.
 */
export async function decompress(
  payload: Buffer,
  codec: Codec,
  declaredBytes: number,
  maxBytes: number,
): Promise<Buffer> {
  if (declaredBytes > maxBytes) {
    throw new DecompressError(
      'decompressed_too_large',
      `declared size ${declaredBytes} exceeds the limit of ${maxBytes} bytes`,
    );
  }
  if (codec === 'none') return checkSize(payload, declaredBytes);
  // maxOutputLength must be at least 1; a declared 0 still may not inflate to anything.
  const options = { maxOutputLength: Math.max(1, declaredBytes) };
  let out: Buffer;
  try {
    out = await (codec === 'gzip' ? gunzip(payload, options) : inflate(payload, options));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecompressError(
        'decompressed_too_large',
        `${codec} payload inflates past its declared ${declaredBytes} bytes; refused`,
      );
    }
    throw new DecompressError(
      'bad_compressed_data',
      `${codec} payload cannot be decompressed: ${(err as Error).message}`,
    );
  }
  return checkSize(out, declaredBytes);
}

function checkSize(out: Buffer, declaredBytes: number): Buffer {
  if (out.length !== declaredBytes) {
    throw new DecompressError(
      'decompressed_size_mismatch',
      `payload is ${out.length} bytes decompressed but ${declaredBytes} were declared`,
    );
  }
  return out;
}
