// Totals of a whole store for `store stats`: records per level, day and service, sizes,
// compression ratio, oldest and newest record. Indexed segments are read from their index;
// the active (or unrecovered) segment is scanned.

import { promises as fsp } from 'node:fs';
import { LEVELS, type Level } from '../record/record.js';
import { FILE_HEADER_BYTES, fileHeader } from './format.js';
import { countBlockRecords } from './recovery.js';
import { readFileHeader, scanBlocks } from './scan.js';
import { SegmentStats, emptyLevels } from './segment-index.js';
import { listSegments, type SegmentInfo } from './segments.js';

export interface StoreStats {
  segments: number;
  records: number;
  rawBytes: number;
  storedBytes: number;
  /** rawBytes / storedBytes (1 when nothing is compressed). */
  compressionRatio: number;
  oldest: number | null;
  newest: number | null;
  levels: Record<Level, number>;
  days: Record<string, number>;
  services: Record<string, number>;
}

/** Index-like counts for one segment: its index, or a scan when it has none. */
export async function segmentCounts(s: SegmentInfo): Promise<SegmentStats | undefined> {
  const stats = new SegmentStats(0, fileHeader(0));
  if (s.index) {
    const i = s.index;
    stats.records = i.records;
    stats.rawBytes = i.rawBytes;
    stats.minTs = i.firstTs ?? Infinity;
    stats.maxTs = i.lastTs ?? -Infinity;
    stats.levels = { ...emptyLevels(), ...i.levels };
    stats.services = new Map(Object.entries(i.services));
    stats.days = new Map(Object.entries(i.days));
    return stats;
  }
  const fh = await fsp.open(s.path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const size = (await fh.stat()).size;
    if (!(await readFileHeader(fh)).ok) return stats;
    for await (const block of scanBlocks(fh, FILE_HEADER_BYTES, size)) {
      stats.addBlock(block.offset, block, block.crc);
      countBlockRecords(stats, block);
    }
    return stats;
  } finally {
    await fh.close();
  }
}

export async function storeStats(dir: string): Promise<StoreStats> {
  const out: StoreStats = {
    segments: 0,
    records: 0,
    rawBytes: 0,
    storedBytes: 0,
    compressionRatio: 1,
    oldest: null,
    newest: null,
    levels: emptyLevels(),
    days: {},
    services: {},
  };
  for (const s of await listSegments(dir)) {
    const c = await segmentCounts(s);
    if (!c) continue;
    out.segments++;
    out.storedBytes += s.sizeBytes;
    out.records += c.records;
    out.rawBytes += c.rawBytes;
    if (c.records > 0) {
      out.oldest = out.oldest === null ? c.minTs : Math.min(out.oldest, c.minTs);
      out.newest = out.newest === null ? c.maxTs : Math.max(out.newest, c.maxTs);
    }
    for (const l of LEVELS) out.levels[l] += c.levels[l];
    for (const [d, n] of c.days) out.days[d] = (out.days[d] ?? 0) + n;
    for (const [v, n] of c.services) out.services[v] = (out.services[v] ?? 0) + n;
  }
  out.compressionRatio = out.storedBytes > 0 ? out.rawBytes / out.storedBytes : 1;
  return out;
}
