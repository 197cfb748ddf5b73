// Listing the segments of a store folder with their state and index, for readers, the
// inspector, retention and query planning.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { COMPRESSED_EXT, DATA_EXT, INDEX_EXT } from './format.js';
import { lockHolder } from './lock.js';
import { readIndex, type SegmentIndex } from './segment-index.js';

export type SegmentState = 'active' | 'closed' | 'compressed' | 'unindexed';

export interface SegmentInfo {
  seq: number;
  name: string;
  /**
   * active: being written; closed / compressed: indexed; unindexed: no usable index (a crash,
   * or a lost or damaged .idx): readers scan its blocks and the next writer rebuilds it.
   */
  state: SegmentState;
  /** The data file (.seg or .sgz). */
  path: string;
  index?: SegmentIndex;
  /** Size of the data file in bytes. */
  sizeBytes: number;
  /** Why the index is missing or could not be read (unset for the active segment). */
  indexProblem?: string;
}

const SEGMENT_FILE = /^(\d{12})\.(seg|sgz|idx)$/;
const LIST_CONCURRENCY = 16;

/** fn over items with at most `limit` calls in flight; results in input order. */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The segments of `dir`, oldest first. Safe while a writer is active. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw new StoreError(`${dir}: cannot read store folder (${(err as Error).message})`, {
      cause: err,
    });
  }
  const seqs = new Set<string>();
  for (const n of names) {
    const m = SEGMENT_FILE.exec(n);
    if (m) seqs.add(m[1]);
  }
  // Indexes are read several at a time: a store of many segments lists in a few round trips
  // (without opening more than LIST_CONCURRENCY files at once).
  const [writerPid, infos] = await Promise.all([
    lockHolder(dir),
    mapLimited([...seqs].sort(), LIST_CONCURRENCY, (name) => describe(dir, name)),
  ]);
  const out = infos.filter(
    (info): info is SegmentInfo & { indexMissing?: boolean } => info !== undefined,
  );
  const last = out[out.length - 1];
  if (last && last.state === 'unindexed' && writerPid !== undefined && last.indexMissing) {
    last.state = 'active';
    delete last.indexProblem;
  }
  for (const info of out) delete info.indexMissing;
  return out;
}

async function describe(
  dir: string,
  name: string,
): Promise<(SegmentInfo & { indexMissing?: boolean }) | undefined> {
  const seq = Number(name);
  // Compression may swap the data file while we look: then the index is read again.
  for (let attempt = 0; attempt < 3; attempt++) {
    let index: SegmentIndex | undefined;
    let indexProblem: string | undefined;
    let indexMissing = false;
    const idxPath = join(dir, name + INDEX_EXT);
    try {
      index = await readIndex(idxPath);
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      indexMissing = code === 'ENOENT';
      indexProblem = indexMissing ? `${idxPath}: index is missing` : (err as Error).message;
    }
    if (index) {
      const path = join(dir, index.file);
      const st = await fsp.stat(path).catch(() => undefined);
      if (st) return { seq, name, state: index.state, path, index, sizeBytes: st.size };
      continue;
    }
    // No usable index: the data file is still listed (never silently dropped) and read by
    // scanning its blocks. A .seg wins over a .sgz: beside it, the .sgz may be half-written.
    for (const ext of [DATA_EXT, COMPRESSED_EXT]) {
      const path = join(dir, name + ext);
      const st = await fsp.stat(path).catch(() => undefined);
      if (st) {
        return {
          seq,
          name,
          state: 'unindexed',
          path,
          sizeBytes: st.size,
          indexProblem,
          indexMissing,
        };
      }
    }
  }
  return undefined;
}
