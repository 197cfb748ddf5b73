// Crash recovery of a segment that has no index (it was active when its writer stopped):
// keep every whole, checked block, move a torn or corrupt tail aside into a quarantine file,
// truncate, and write the index. Blocks are the unit kept: an unacknowledged block never
// returns half-stored, so a batch id is on disk exactly when all its records are.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { componentLogger } from '../telemetry/logger.js';
import {
  COMPRESSED_EXT,
  DATA_EXT,
  FILE_HEADER_BYTES,
  QUARANTINE_EXT,
  fileHeader,
  type DecodedBlock,
} from './format.js';
import { SegmentStats, syncDir, writeIndex, type SegmentIndex } from './segment-index.js';
import { blockPayload, findNextBlock, lineFacts, readFileHeader, scanBlocks } from './scan.js';
import { decodeJson } from '../record/json.js';
import { isLevel, type Level } from '../record/record.js';
import { storeMetrics } from './metrics.js';

export interface RecoveryReport {
  segment: string;
  /** Bytes of whole blocks kept. */
  keptBytes: number;
  keptRecords: number;
  /** Bytes moved into the quarantine file (0 when the segment ended cleanly). */
  quarantinedBytes: number;
  quarantinePath?: string;
  /** Corrupt ranges found before the end, left in place and skipped by readers. */
  skippedRanges: Array<{ offset: number; length: number; problem: string }>;
}

/** Adds each line of a block's payload to the segment's per-level/service/day counts. */
export function countBlockRecords(stats: SegmentStats, block: DecodedBlock): void {
  const text = blockPayload(block).toString('utf8');
  let from = 0;
  while (from < text.length) {
    let nl = text.indexOf('\n', from);
    if (nl < 0) nl = text.length;
    const line = text.slice(from, nl);
    from = nl + 1;
    if (line.length === 0) continue;
    const facts = lineFacts(line) ?? slowFacts(line);
    stats.addRecord(facts.level, facts.service, facts.day);
  }
}

function slowFacts(line: string): { level: Level; service: string | undefined; day: string } {
  try {
    const obj = decodeJson(line) as Record<string, unknown>;
    const level = isLevel(obj.level) ? obj.level : 'info';
    const service = typeof obj.service === 'string' ? obj.service : undefined;
    const day = typeof obj.timestamp === 'string' ? obj.timestamp.slice(0, 10) : 'unknown';
    return { level, service, day };
  } catch {
    return { level: 'info', service: undefined, day: 'unknown' };
  }
}

/**
 * Adds every whole, checked block from the file header to `size` to `stats`, stepping over
 * corrupt ranges that have a valid block after them (listed in `skipped`); returns the offset
 * where the last run of good blocks ended (a torn or corrupt tail starts there).
 */
async function countBlocks(
  fh: fsp.FileHandle,
  size: number,
  stats: SegmentStats,
  skipped: RecoveryReport['skippedRanges'],
): Promise<number> {
  let from = FILE_HEADER_BYTES;
  for (;;) {
    const scan = scanBlocks(fh, from, size);
    let r = await scan.next();
    while (!r.done) {
      stats.addBlock(r.value.offset, r.value, r.value.crc);
      countBlockRecords(stats, r.value);
      r = await scan.next();
    }
    const end = r.value.offset;
    if (r.value.reason !== 'corrupt') return end;
    const next = await findNextBlock(fh, end, size);
    if (next < 0) return end;
    skipped.push({ offset: end, length: next - end, problem: r.value.problem });
    from = next;
  }
}

/** Recovers `NNN.seg` in `dir` and writes its index; returns what it did. */
export async function recoverSegment(
  dir: string,
  segment: string,
  idLimit: number,
): Promise<{ report: RecoveryReport; index: SegmentIndex }> {
  const path = join(dir, segment + DATA_EXT);
  const fh = await fsp.open(path, 'r+');
  const report: RecoveryReport = {
    segment,
    keptBytes: 0,
    keptRecords: 0,
    quarantinedBytes: 0,
    skippedRanges: [],
  };
  try {
    const st = await fh.stat();
    const header = await readFileHeader(fh);
    if (!header.ok && st.size >= FILE_HEADER_BYTES) {
      throw new StoreError(`${path}: ${header.problem}; not recovering a file that is not ours.`);
    }
    let end = FILE_HEADER_BYTES;
    const stats = new SegmentStats(idLimit, fileHeader(0));
    if (header.ok) end = await countBlocks(fh, st.size, stats, report.skippedRanges);
    if (end < st.size) {
      report.quarantinePath = await quarantine(fh, dir, segment, end, st.size);
      report.quarantinedBytes = st.size - end;
    }
    if (!header.ok) await fh.write(fileHeader(0), 0, FILE_HEADER_BYTES, 0);
    await fh.truncate(end);
    await fh.sync();
    report.keptBytes = end;
    report.keptRecords = stats.records;
    const index = stats.toIndex({
      segment,
      file: segment + DATA_EXT,
      state: 'closed',
      compression: 'none',
      createdAt: Math.round(st.birthtimeMs || st.mtimeMs),
      closedAt: Date.now(),
      storedBytes: end,
    });
    await writeIndex(dir, index);
    if (report.quarantinedBytes > 0 || report.skippedRanges.length > 0) {
      storeMetrics().quarantinedBytes.inc(report.quarantinedBytes);
      componentLogger('store').warn({ dir, ...report }, 'Recovered a segment after a crash.');
    }
    return { report, index };
  } finally {
    await fh.close();
  }
}

async function quarantine(
  fh: fsp.FileHandle,
  dir: string,
  segment: string,
  from: number,
  to: number,
): Promise<string> {
  const path = join(dir, `${segment}${QUARANTINE_EXT}-${Date.now()}`);
  const out = await fsp.open(path, 'wx');
  try {
    const buf = Buffer.allocUnsafe(Math.min(to - from, 4 * 1024 * 1024));
    for (let at = from; at < to;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) break;
      await out.write(buf, 0, bytesRead);
      at += bytesRead;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await syncDir(dir);
  return path;
}

/**
 * Rebuilds the lost or damaged index of a compressed segment (`NNN.sgz`) from its blocks.
 * The file is left as it is: it was written whole (tmp file, fsync, rename), so a block that
 * does not check out is corruption, skipped here as readers skip it.
 */
export async function rebuildCompressedIndex(
  dir: string,
  segment: string,
  idLimit: number,
): Promise<SegmentIndex> {
  const path = join(dir, segment + COMPRESSED_EXT);
  const fh = await fsp.open(path, 'r');
  try {
    const st = await fh.stat();
    const header = await readFileHeader(fh);
    if (!header.ok) {
      throw new StoreError(`${path}: ${header.problem}; cannot rebuild its index.`);
    }
    const stats = new SegmentStats(idLimit, fileHeader(header.flags));
    await countBlocks(fh, st.size, stats, []);
    const index = stats.toIndex({
      segment,
      file: segment + COMPRESSED_EXT,
      state: 'compressed',
      compression: 'gzip',
      createdAt: Math.round(st.birthtimeMs || st.mtimeMs),
      closedAt: Math.round(st.mtimeMs),
      storedBytes: st.size,
    });
    await writeIndex(dir, index);
    return index;
  } finally {
    await fh.close();
  }
}
