// Sequential reading of a segment file's blocks, in large chunks, for recovery, verification,
// compression and readers. Stops at the first block that is incomplete or does not check out
// and says why, so the caller decides: torn tail, still being written, or corruption.

import type { FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { isLevel, type Level } from '../record/record.js';
import {
  BLOCK_FLAG_GZIP,
  BLOCK_MAGIC,
  FILE_HEADER_BYTES,
  checkFileHeader,
  readBlock,
  type DecodedBlock,
} from './format.js';

const CHUNK_BYTES = 4 * 1024 * 1024;

export type ScanEnd =
  | { reason: 'eof'; offset: number }
  | { reason: 'incomplete'; offset: number }
  | { reason: 'corrupt'; offset: number; problem: string };

/** Reads the file header; returns its flags or a problem. */
export async function readFileHeader(
  fh: FileHandle,
): Promise<{ ok: true; flags: number } | { ok: false; problem: string }> {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  const { bytesRead } = await fh.read(b, 0, FILE_HEADER_BYTES, 0);
  return checkFileHeader(b.subarray(0, bytesRead));
}

/**
 * Yields every whole, checked block from `start` up to `end` (the file size when scanning
 * began), then returns how the scan ended.
 */
export async function* scanBlocks(
  fh: FileHandle,
  start: number,
  end: number,
): AsyncGenerator<DecodedBlock, ScanEnd> {
  let buf = Buffer.alloc(0);
  let base = start;
  let at = 0;
  let fileAt = start;
  for (;;) {
    const r = readBlock(buf, at, base);
    if (r.kind === 'block') {
      yield r.block;
      at += r.block.length;
      continue;
    }
    if (r.kind === 'corrupt') return { reason: 'corrupt', offset: base + at, problem: r.problem };
    // Need more bytes: keep the unread rest and read the next chunk after it.
    if (fileAt >= end) {
      const offset = base + at;
      return offset >= end ? { reason: 'eof', offset } : { reason: 'incomplete', offset };
    }
    const want = Math.max(CHUNK_BYTES, r.needBytes - (buf.length - at));
    const len = Math.min(want, end - fileAt);
    const next = Buffer.allocUnsafe(buf.length - at + len);
    buf.copy(next, 0, at);
    const { bytesRead } = await fh.read(next, buf.length - at, len, fileAt);
    base += at;
    buf = next.subarray(0, buf.length - at + bytesRead);
    at = 0;
    fileAt += bytesRead;
    if (bytesRead === 0) return { reason: 'incomplete', offset: base };
  }
}

/** Finds the next offset after `from` where a whole, checked block starts; -1 if none. */
export async function findNextBlock(fh: FileHandle, from: number, end: number): Promise<number> {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(BLOCK_MAGIC);
  let pos = from + 1;
  while (pos < end) {
    const len = Math.min(CHUNK_BYTES, end - pos);
    const b = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(b, 0, len, pos);
    let i = b.subarray(0, bytesRead).indexOf(magic);
    while (i >= 0) {
      const gen = scanBlocks(fh, pos + i, end);
      const first = await gen.next();
      if (!first.done) return pos + i;
      i = b.subarray(0, bytesRead).indexOf(magic, i + 1);
    }
    if (bytesRead < 4) break;
    pos += bytesRead - 3;
  }
  return -1;
}

export { FILE_HEADER_BYTES };

/** The NDJSON text of a block's payload, decompressed when the block is gzip. */
export function blockPayload(block: DecodedBlock): Buffer {
  return block.flags & BLOCK_FLAG_GZIP ? gunzipSync(block.payload) : block.payload;
}

/** What the index needs from one stored line, read without a full JSON parse. */
export interface LineFacts {
  ts: number;
  level: Level;
  service: string | undefined;
  day: string;
}

const TS_AT = '{"timestamp":"'.length;
const LEVEL_AT = TS_AT + 24 + '","level":"'.length;

/**
 * Reads timestamp, level and service from a line written by encodeRecord, whose field order
 * is fixed; `undefined` when the line is not in that shape (the caller then parses it).
 */
export function lineFacts(line: string): LineFacts | undefined {
  if (!line.startsWith('{"timestamp":"') || line.charCodeAt(TS_AT + 23) !== 90 /* Z */) {
    return undefined;
  }
  const ts = Date.parse(line.slice(TS_AT, TS_AT + 24));
  const levelEnd = line.indexOf('"', LEVEL_AT);
  const level = line.slice(LEVEL_AT, levelEnd);
  if (!Number.isFinite(ts) || !isLevel(level)) return undefined;
  const formatAt = line.indexOf(',"format":"');
  const svcAt = line.lastIndexOf(',"service":"', formatAt);
  let service: string | undefined;
  if (svcAt > 0) {
    const valueAt = svcAt + ',"service":'.length;
    service = JSON.parse(line.slice(valueAt, stringEnd(line, valueAt + 1) + 1)) as string;
  }
  return { ts, level, service, day: line.slice(TS_AT, TS_AT + 10) };
}

/** Index of the closing quote of the JSON string whose content starts at `from`. */
function stringEnd(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \\ */) i++;
    else if (c === 34 /* " */) return i;
  }
  return line.length;
}

/** Epoch ms of a stored line's timestamp (NaN when it cannot be found). */
export function lineTimestamp(line: string): number {
  if (line.startsWith('{"timestamp":"')) return Date.parse(line.slice(TS_AT, TS_AT + 24));
  const m = /"timestamp":"([^"]+)"/.exec(line);
  return m ? Date.parse(m[1]) : NaN;
}
