// What a writer does to a store folder before it appends: clear leftovers of interrupted
// work (temporary files, half-done compressions), recover segments left without an index by
// a crash, and collect the newest batch ids for de-duplication.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { COMPRESSED_EXT, DATA_EXT, INDEX_EXT } from './format.js';
import { componentLogger } from '../telemetry/logger.js';
import { rebuildCompressedIndex, recoverSegment, type RecoveryReport } from './recovery.js';
import { readIndex, syncDir, type SegmentIndex } from './segment-index.js';
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
  const sorted = [...bySeq].sort(([a], [b]) => (a < b ? -1 : 1));
  for (let i = 0; i < sorted.length; i++) {
    const [name, exts] = sorted[i];
    await settleSegment(dir, name, exts, idLimit, recovery, i === sorted.length - 1);
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
  newest: boolean,
): Promise<void> {
  const seg = join(dir, name + DATA_EXT);
  const sgz = join(dir, name + COMPRESSED_EXT);
  const idx = join(dir, name + INDEX_EXT);
  let index: SegmentIndex | undefined;
  let damage: string | undefined;
  if (exts.has('idx')) {
    try {
      index = await readIndex(idx);
    } catch (err) {
      damage = (err as Error).message;
    }
  }
  if (!index) {
    await rebuildIndex(dir, name, exts, idLimit, recovery, newest ? damage : (damage ?? 'missing'));
    return;
  }
  if (index.state === 'compressed' && exts.has('sgz') && exts.has('seg')) {
    // Compression finished but the old file was not yet removed.
    await fsp.unlink(seg);
  } else if (index.state === 'closed' && exts.has('sgz')) {
    // Compression did not finish: its output is incomplete; it will be done again.
    await fsp.unlink(sgz);
  } else if (!exts.has('seg') && !exts.has('sgz')) {
    // Retention removed the data and stopped before the index.
    await fsp.unlink(idx);
  }
}

/**
 * A segment without a usable index: the newest one after a crash (recovered as usual), or a
 * closed one whose .idx was lost or damaged (`damage` says how): rebuilt from its blocks.
 */
async function rebuildIndex(
  dir: string,
  name: string,
  exts: Set<string>,
  idLimit: number,
  recovery: RecoveryReport[],
  damage: string | undefined,
): Promise<void> {
  const idx = join(dir, name + INDEX_EXT);
  const log = componentLogger('store');
  if (exts.has('seg')) {
    // Compression removes the .seg only after the .sgz and its index are written, so here
    // the .seg is whole and a .sgz beside it may be half-done: the .seg is the one kept.
    if (exts.has('sgz')) await fsp.unlink(join(dir, name + COMPRESSED_EXT));
    const { report } = await recoverSegment(dir, name, idLimit);
    recovery.push(report);
    if (damage !== undefined) {
      log.warn(
        { dir, segment: name, index: idx, problem: damage, records: report.keptRecords },
        'Rebuilt a missing or damaged segment index from its blocks.',
      );
    }
  } else if (exts.has('sgz')) {
    let index: SegmentIndex;
    try {
      index = await rebuildCompressedIndex(dir, name, idLimit);
    } catch (err) {
      // Its file header is damaged too: appends go on; readers still scan its blocks and
      // verify names it, so the damage is neither hidden nor blocking.
      log.error(
        { dir, segment: name, index: idx, problem: (err as Error).message },
        'Cannot rebuild a segment index; the segment stays unindexed.',
      );
      return;
    }
    log.warn(
      { dir, segment: name, index: idx, problem: damage ?? 'missing', records: index.records },
      'Rebuilt a missing or damaged segment index from its blocks.',
    );
  } else if (exts.has('idx')) {
    // A damaged index with no data file left: retention stopped before removing it.
    await fsp.unlink(idx);
  }
}
