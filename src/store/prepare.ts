// What a writer does to a store folder before it appends: clear leftovers of interrupted
// work (temporary files, half-done compressions), recover segments left without an index by
// a crash, and collect the newest batch ids for de-duplication.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { COMPRESSED_EXT, DATA_EXT, INDEX_EXT } from './format.js';
import { recoverSegment, type RecoveryReport } from './recovery.js';
import { readIndex, syncDir } from './segment-index.js';
import { listSegments, type SegmentInfo } from './segments.js';

export interface PreparedStore {
  segments: SegmentInfo[];
  recovery: RecoveryReport[];
  /** The newest batch ids, oldest first, at most the dedupe window. */
  batchIds: string[];
  nextSeq: number;
}

const NAME = /^(\d{12})\.(seg|sgz|idx)$/;

export async function prepareStore(dir: string, idLimit: number): Promise<PreparedStore> {
  const names = await fsp.readdir(dir);
  const bySeq = new Map<string, Set<string>>();
  for (const n of names) {
    if (n.endsWith('.tmp')) {
      await fsp.unlink(join(dir, n)).catch(() => undefined);
      continue;
    }
    const m = NAME.exec(n);
    if (!m) continue;
    let exts = bySeq.get(m[1]);
    if (!exts) bySeq.set(m[1], (exts = new Set()));
    exts.add(m[2]);
  }
  const recovery: RecoveryReport[] = [];
  for (const [name, exts] of [...bySeq].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await settleSegment(dir, name, exts, idLimit, recovery);
  }
  await syncDir(dir);
  const segments = await listSegments(dir);
  const batchIds: string[] = [];
  for (let i = segments.length - 1; i >= 0 && batchIds.length < idLimit; i--) {
    const ids = segments[i].index?.batchIds ?? [];
    batchIds.unshift(...ids.slice(-(idLimit - batchIds.length)));
  }
  const last = segments[segments.length - 1];
  return { segments, recovery, batchIds, nextSeq: last ? last.seq + 1 : 1 };
}

async function settleSegment(
  dir: string,
  name: string,
  exts: Set<string>,
  idLimit: number,
  recovery: RecoveryReport[],
): Promise<void> {
  const seg = join(dir, name + DATA_EXT);
  const sgz = join(dir, name + COMPRESSED_EXT);
  if (!exts.has('idx')) {
    if (exts.has('seg')) recovery.push((await recoverSegment(dir, name, idLimit)).report);
    return;
  }
  const index = await readIndex(join(dir, name + INDEX_EXT));
  if (index.state === 'compressed' && exts.has('sgz') && exts.has('seg')) {
    // Compression finished but the old file was not yet removed.
    await fsp.unlink(seg);
  } else if (index.state === 'closed' && exts.has('sgz')) {
    // Compression did not finish: its output is incomplete; it will be done again.
    await fsp.unlink(sgz);
  } else if (!exts.has('seg') && !exts.has('sgz')) {
    // Retention removed the data and stopped before the index.
    await fsp.unlink(join(dir, name + INDEX_EXT));
  }
}
