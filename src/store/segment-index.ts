// The index beside each closed segment (NNN.idx, JSON): time range, counts per level, service
// and day, raw and stored bytes, the data file's CRC-32, sparse time -> offset entries and the
// segment's newest batch ids. Written atomically (tmp, fsync, rename) when a segment closes.

import {
  closeSync,
  fsyncSync,
  openSync,
  promises as fsp,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { LEVELS, type Level } from '../record/record.js';
import { StoreError } from '../errors.js';
import { crc32 } from '../codec/crc32.js';
import { FORMAT_VERSION, INDEX_EXT, type BlockMeta } from './format.js';

/** One sparse entry: the blocks from `offset` up to the next entry. */
export type IndexEntry = [offset: number, minTs: number, maxTs: number, records: number];

export interface SegmentIndex {
  version: number;
  segment: string;
  file: string;
  state: 'closed' | 'compressed';
  compression: 'none' | 'gzip';
  createdAt: number;
  closedAt: number;
  /** Oldest and newest record timestamps (epoch ms); null for an empty segment. */
  firstTs: number | null;
  lastTs: number | null;
  records: number;
  blocks: number;
  rawBytes: number;
  storedBytes: number;
  /** CRC-32 over the file header and every block's CRC in order, 8 hex digits. */
  checksum: string;
  levels: Record<Level, number>;
  services: Record<string, number>;
  days: Record<string, number>;
  entries: IndexEntry[];
  batchIds: string[];
}

/** Per-level, per-service and per-day counts of one batch, made while it is encoded. */
export interface BatchFacts {
  levels: Record<Level, number>;
  services: Map<string, number>;
  days: Map<string, number>;
}

/** A sparse entry starts every this many bytes of segment, so a seek reads little extra. */
export const SPARSE_ENTRY_BYTES = 128 * 1024;
/** Distinct services counted per segment; the rest count under "(other)". */
export const MAX_SERVICES = 1000;

export function emptyLevels(): Record<Level, number> {
  const levels = {} as Record<Level, number>;
  for (const l of LEVELS) levels[l] = 0;
  return levels;
}

/** Accumulates a segment's index while blocks are written (or scanned during recovery). */
export class SegmentStats {
  records = 0;
  blocks = 0;
  rawBytes = 0;
  minTs = Infinity;
  maxTs = -Infinity;
  levels = emptyLevels();
  services = new Map<string, number>();
  days = new Map<string, number>();
  entries: IndexEntry[] = [];
  batchIds: string[] = [];
  /** Running CRC over the file header and the block CRCs: the index's `checksum`. */
  checksum: number;

  constructor(
    private readonly idLimit: number,
    fileHeader: Buffer,
  ) {
    this.checksum = crc32(fileHeader);
  }

  addBlock(offset: number, meta: BlockMeta, blockCrc: number): void {
    crcWord.writeUInt32LE(blockCrc >>> 0);
    this.checksum = crc32(crcWord, this.checksum);
    this.blocks++;
    this.records += meta.records;
    this.rawBytes += meta.rawBytes;
    if (meta.records > 0) {
      if (meta.minTs < this.minTs) this.minTs = meta.minTs;
      if (meta.maxTs > this.maxTs) this.maxTs = meta.maxTs;
    }
    const last = this.entries[this.entries.length - 1];
    if (!last || offset - last[0] >= SPARSE_ENTRY_BYTES) {
      this.entries.push([offset, meta.minTs, meta.maxTs, meta.records]);
    } else {
      if (meta.minTs < last[1]) last[1] = meta.minTs;
      if (meta.maxTs > last[2]) last[2] = meta.maxTs;
      last[3] += meta.records;
    }
    for (const id of meta.batchIds) this.batchIds.push(id);
    if (this.batchIds.length > this.idLimit * 2) {
      this.batchIds = this.batchIds.slice(-this.idLimit);
    }
  }

  /** Adds the per-level, per-service and per-day counts of one encoded batch. */
  addFacts(facts: BatchFacts): void {
    for (const l of LEVELS) this.levels[l] += facts.levels[l];
    for (const [service, n] of facts.services) this.addService(service, n);
    for (const [day, n] of facts.days) this.days.set(day, (this.days.get(day) ?? 0) + n);
  }

  private addService(service: string, n: number): void {
    const have = this.services.get(service);
    if (have !== undefined) this.services.set(service, have + n);
    else if (this.services.size < MAX_SERVICES) this.services.set(service, n);
    else this.services.set('(other)', (this.services.get('(other)') ?? 0) + n);
  }

  addRecord(level: Level, service: string | undefined, day: string): void {
    this.levels[level]++;
    if (service !== undefined) this.addService(service, 1);
    this.days.set(day, (this.days.get(day) ?? 0) + 1);
  }

  toIndex(base: {
    segment: string;
    file: string;
    state: SegmentIndex['state'];
    compression: SegmentIndex['compression'];
    createdAt: number;
    closedAt: number;
    storedBytes: number;
  }): SegmentIndex {
    const empty = this.records === 0;
    return {
      version: FORMAT_VERSION,
      ...base,
      checksum: hex(this.checksum),
      firstTs: empty ? null : this.minTs,
      lastTs: empty ? null : this.maxTs,
      records: this.records,
      blocks: this.blocks,
      rawBytes: this.rawBytes,
      levels: this.levels,
      services: Object.fromEntries(this.services),
      days: Object.fromEntries(this.days),
      entries: this.entries,
      batchIds: this.batchIds.slice(-this.idLimit),
    };
  }
}

const crcWord = Buffer.alloc(4);

export function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function indexPath(dir: string, segment: string): string {
  return join(dir, segment + INDEX_EXT);
}

/** Writes the index atomically: a reader sees the old index, the new one, or none. */
export async function writeIndex(dir: string, index: SegmentIndex): Promise<void> {
  const path = indexPath(dir, index.segment);
  const tmp = `${path}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(index) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  await syncDir(dir);
}

/** The same as writeIndex, blocking: for the compression worker thread. */
export function writeIndexSync(dir: string, index: SegmentIndex): void {
  const path = indexPath(dir, index.segment);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(index) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirSync(dir);
}

export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // As in syncDir: not every filesystem allows it.
  } finally {
    closeSync(fd);
  }
}

export async function readIndex(path: string): Promise<SegmentIndex> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    throw new StoreError(`${path}: cannot read index (${(err as Error).message})`, { cause: err });
  }
  return parseIndex(path, text);
}

/** readIndex with a blocking read, for listings (an index is a few KiB). */
export function readIndexSync(path: string): SegmentIndex {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StoreError(`${path}: cannot read index (${(err as Error).message})`, { cause: err });
  }
  return parseIndex(path, text);
}

function parseIndex(path: string, text: string): SegmentIndex {
  let index: SegmentIndex;
  try {
    index = JSON.parse(text) as SegmentIndex;
  } catch (err) {
    throw new StoreError(`${path}: index is not valid JSON`, { cause: err });
  }
  if (index.version !== FORMAT_VERSION || !Array.isArray(index.entries)) {
    throw new StoreError(`${path}: index version ${index.version} is not ${FORMAT_VERSION}`);
  }
  return index;
}

/** fsync a directory so that a create, rename or unlink in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}
