// Rewrites a closed segment as a compressed one: consecutive blocks are grouped into about
// 1 MiB of NDJSON and each group becomes one gzip block (batch ids carried over), so the
// compressed file keeps the same framing, checksums and sparse index for seeking.

import {
  readFileSync,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { StoreError } from '../errors.js';
import {
  BLOCK_FLAG_GZIP,
  BLOCK_FLAG_SORTED,
  BLOCK_MAGIC,
  COMPRESSED_EXT,
  DATA_EXT,
  FILE_FLAG_COMPRESSED,
  FILE_HEADER_BYTES,
  checkFileHeader,
  encodeBlock,
  fileHeader,
  readBlock,
  type DecodedBlock,
} from './format.js';
import { SegmentStats, indexPath, syncDirSync, writeIndexSync } from './segment-index.js';
import { readFileSync as readText } from 'node:fs';
import type { SegmentIndex } from './segment-index.js';

export const COMPRESS_GROUP_BYTES = 1024 * 1024;
const MAX_GROUP_IDS = 60_000;

export interface CompressedSegment {
  segment: string;
  previousBytes: number;
  storedBytes: number;
  rawBytes: number;
  millis: number;
}

/** Every whole, checked block of an in-memory segment, skipping corrupt ranges. */
export function* blocksOf(buf: Buffer): Generator<DecodedBlock> {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(BLOCK_MAGIC);
  let at = FILE_HEADER_BYTES;
  while (at < buf.length) {
    const r = readBlock(buf, at, 0);
    if (r.kind === 'block') {
      yield r.block;
      at += r.block.length;
      continue;
    }
    const next = buf.indexOf(magic, at + 1);
    if (next < 0) return;
    at = next;
  }
}

export function compressSegmentSync(
  dir: string,
  segment: string,
  level: number,
  idLimit: number,
): CompressedSegment {
  const started = Date.now();
  const index = JSON.parse(readText(indexPath(dir, segment), 'utf8')) as SegmentIndex;
  if (index.state !== 'closed') {
    throw new StoreError(`${segment}: index state is ${index.state}, not closed`);
  }
  const srcPath = join(dir, segment + DATA_EXT);
  const src = readFileSync(srcPath);
  const header = checkFileHeader(src);
  if (!header.ok) throw new StoreError(`${srcPath}: ${header.problem}`);
  const outPath = join(dir, segment + COMPRESSED_EXT);
  const tmpPath = `${outPath}.tmp`;
  const outHeader = fileHeader(FILE_FLAG_COMPRESSED);
  const stats = new SegmentStats(idLimit, outHeader);
  const fd = openSync(tmpPath, 'w');
  let size = 0;
  try {
    size += writeSync(fd, outHeader);
    let group: DecodedBlock[] = [];
    let groupBytes = 0;
    let groupIds = 0;
    const flush = () => {
      if (group.length === 0) return;
      const raw = Buffer.concat(group.map((b) => b.payload));
      const meta = {
        records: 0,
        flags: BLOCK_FLAG_GZIP | BLOCK_FLAG_SORTED,
        minTs: Infinity,
        maxTs: -Infinity,
        rawBytes: raw.length,
        batchIds: [] as string[],
      };
      for (const b of group) {
        // Still in order when every block is, and each starts where the one before ended.
        if (!(b.flags & BLOCK_FLAG_SORTED) || (b.records > 0 && b.minTs < meta.maxTs)) {
          meta.flags &= ~BLOCK_FLAG_SORTED;
        }
        meta.records += b.records;
        if (b.records > 0) {
          meta.minTs = Math.min(meta.minTs, b.minTs);
          meta.maxTs = Math.max(meta.maxTs, b.maxTs);
        }
        meta.batchIds.push(...b.batchIds);
      }
      if (meta.records === 0) meta.minTs = meta.maxTs = 0;
      const [head, payload, crc] = encodeBlock(meta, gzipSync(raw, { level }));
      stats.addBlock(size, meta, crc);
      size += writeSync(fd, head);
      size += writeSync(fd, payload);
      group = [];
      groupBytes = 0;
      groupIds = 0;
    };
    for (const block of blocksOf(src)) {
      if (block.flags & BLOCK_FLAG_GZIP) {
        throw new StoreError(`${srcPath}: block at ${block.offset} is already compressed`);
      }
      if (
        groupBytes + block.rawBytes > COMPRESS_GROUP_BYTES ||
        groupIds + block.batchIds.length > MAX_GROUP_IDS
      ) {
        flush();
      }
      group.push(block);
      groupBytes += block.rawBytes;
      groupIds += block.batchIds.length;
    }
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpPath, outPath);
  syncDirSync(dir);
  // The per-level, service and day counts do not change; the framing and sizes do.
  stats.levels = index.levels;
  stats.services = new Map(Object.entries(index.services));
  stats.days = new Map(Object.entries(index.days));
  writeIndexSync(
    dir,
    stats.toIndex({
      segment,
      file: segment + COMPRESSED_EXT,
      state: 'compressed',
      compression: 'gzip',
      createdAt: index.createdAt,
      closedAt: index.closedAt,
      storedBytes: size,
    }),
  );
  unlinkSync(srcPath);
  syncDirSync(dir);
  return {
    segment,
    previousBytes: src.length,
    storedBytes: size,
    rawBytes: stats.rawBytes,
    millis: Date.now() - started,
  };
}
