// The on-disk framing of a segment file (docs/store.md): a 16-byte file header, then blocks,
// each [prefix: magic, body length, CRC-32 of body][body: counts, time range, batch ids,
// payload]. A block is the unit of durability: its batch ids sit inside the same checksum as
// its records, so an id is on disk exactly when its records are.

import { crc32 } from '../codec/crc32.js';

export const FORMAT_VERSION = 1;
export const FILE_MAGIC = Buffer.from('SLUICESG', 'latin1');
export const FILE_HEADER_BYTES = 16;
export const BLOCK_MAGIC = 0x314b4c42; // "BLK1" little-endian
export const BLOCK_PREFIX_BYTES = 12;
export const BLOCK_FIXED_BYTES = 28;
export const MAX_BATCH_ID_BYTES = 1024;
export const MAX_BLOCK_BODY_BYTES = 1024 * 1024 * 1024;

/** Flags in the file header. */
export const FILE_FLAG_COMPRESSED = 1;
/** Flags in a block body: the payload is one gzip member. */
export const BLOCK_FLAG_GZIP = 1;
/** Flags in a block body: the records are in non-decreasing time order (readers may skip a sort). */
export const BLOCK_FLAG_SORTED = 2;

export const DATA_EXT = '.seg';
export const COMPRESSED_EXT = '.sgz';
export const INDEX_EXT = '.idx';
export const QUARANTINE_EXT = '.quarantine';
export const LOCK_FILE = 'LOCK';

export function segmentName(seq: number): string {
  return String(seq).padStart(12, '0');
}

export function fileHeader(flags: number): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(b, 0);
  b.writeUInt16LE(FORMAT_VERSION, 8);
  b.writeUInt16LE(flags, 10);
  return b;
}

export type HeaderCheck = { ok: true; flags: number } | { ok: false; problem: string };

export function checkFileHeader(b: Buffer): HeaderCheck {
  if (b.length < FILE_HEADER_BYTES) return { ok: false, problem: 'file header is incomplete' };
  if (!b.subarray(0, 8).equals(FILE_MAGIC)) return { ok: false, problem: 'not a sluice segment' };
  const version = b.readUInt16LE(8);
  if (version !== FORMAT_VERSION) {
    return { ok: false, problem: `segment format version ${version} is not ${FORMAT_VERSION}` };
  }
  return { ok: true, flags: b.readUInt16LE(10) };
}

export interface BlockMeta {
  records: number;
  flags: number;
  minTs: number;
  maxTs: number;
  rawBytes: number;
  batchIds: string[];
}

/**
 * Builds a block as two buffers (header and payload) so the payload is written without a
 * copy. The CRC covers the body: everything after the 12-byte prefix.
 */
export function encodeBlock(meta: BlockMeta, payload: Buffer): [Buffer, Buffer, number] {
  const idBytes = meta.batchIds.map((id) => Buffer.from(id, 'utf8'));
  let idsLen = 0;
  for (const b of idBytes) idsLen += 2 + b.length;
  const head = Buffer.allocUnsafe(BLOCK_PREFIX_BYTES + BLOCK_FIXED_BYTES + idsLen);
  const bodyLen = BLOCK_FIXED_BYTES + idsLen + payload.length;
  head.writeUInt32LE(BLOCK_MAGIC, 0);
  head.writeUInt32LE(bodyLen, 4);
  head.writeUInt32LE(meta.records, 12);
  head.writeUInt8(meta.flags, 16);
  head.writeUInt8(0, 17);
  head.writeUInt16LE(idBytes.length, 18);
  head.writeDoubleLE(meta.minTs, 20);
  head.writeDoubleLE(meta.maxTs, 28);
  head.writeUInt32LE(meta.rawBytes, 36);
  let at = BLOCK_PREFIX_BYTES + BLOCK_FIXED_BYTES;
  for (const b of idBytes) {
    head.writeUInt16LE(b.length, at);
    b.copy(head, at + 2);
    at += 2 + b.length;
  }
  const crc = crc32(payload, crc32(head.subarray(BLOCK_PREFIX_BYTES)));
  head.writeUInt32LE(crc, 8);
  return [head, payload, crc];
}

/** A block read back: its metadata, the payload bytes (maybe gzip) and where it sits. */
export interface DecodedBlock extends BlockMeta {
  offset: number;
  crc: number;
  length: number;
  payload: Buffer;
}

export type BlockRead =
  | { kind: 'block'; block: DecodedBlock }
  | { kind: 'incomplete'; needBytes: number }
  | { kind: 'corrupt'; problem: string };

/**
 * Reads the block starting at `at` in `buf` (whose first byte is file offset `base`).
 * 'incomplete' means the bytes end inside the block: a torn tail or a block still being
 * written. 'corrupt' means the bytes are all there and do not check out.
 */
export function readBlock(buf: Buffer, at: number, base: number): BlockRead {
  if (buf.length - at < BLOCK_PREFIX_BYTES) {
    return { kind: 'incomplete', needBytes: BLOCK_PREFIX_BYTES };
  }
  if (buf.readUInt32LE(at) !== BLOCK_MAGIC) return { kind: 'corrupt', problem: 'bad block magic' };
  const bodyLen = buf.readUInt32LE(at + 4);
  if (bodyLen < BLOCK_FIXED_BYTES || bodyLen > MAX_BLOCK_BODY_BYTES) {
    return { kind: 'corrupt', problem: `impossible block length ${bodyLen}` };
  }
  const total = BLOCK_PREFIX_BYTES + bodyLen;
  if (buf.length - at < total) return { kind: 'incomplete', needBytes: total };
  const body = buf.subarray(at + BLOCK_PREFIX_BYTES, at + total);
  if (crc32(body) !== buf.readUInt32LE(at + 8)) {
    return { kind: 'corrupt', problem: 'block checksum mismatch' };
  }
  const idCount = body.readUInt16LE(6);
  const batchIds: string[] = [];
  let p = BLOCK_FIXED_BYTES;
  for (let i = 0; i < idCount; i++) {
    const len = body.readUInt16LE(p);
    batchIds.push(body.toString('utf8', p + 2, p + 2 + len));
    p += 2 + len;
  }
  return {
    kind: 'block',
    block: {
      offset: base + at,
      crc: buf.readUInt32LE(at + 8),
      length: total,
      records: body.readUInt32LE(0),
      flags: body.readUInt8(4),
      minTs: body.readDoubleLE(8),
      maxTs: body.readDoubleLE(16),
      rawBytes: body.readUInt32LE(24),
      batchIds,
      payload: body.subarray(p),
    },
  };
}
