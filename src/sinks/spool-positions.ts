// Resuming files past what the ship spool holds. The tailer writes its checkpoint after the
// spool took a batch, so a shipper killed between the two would read those lines again and
// send them under new sequences (stored twice). Before the tailer starts, the positions the
// spool recorded are merged into the tailer's checkpoint file: for each file, the further of
// the two offsets wins, unless the checkpoint shows the file's content changed since.

import type { Logger } from 'pino';
import { CheckpointStore, type CheckpointEntry } from '../sources/file/checkpoint.js';
import type { CheckpointPosition } from '../sources/file/options.js';

export interface MergeReport {
  /** Files whose checkpoint moved forward to the spool's position. */
  advanced: number;
  /** Files the checkpoint did not list, added from the spool. */
  added: number;
}

/** Merges spooled positions into the checkpoints of `stateDir`; writes only on a change. */
export async function mergeSpooledPositions(
  stateDir: string,
  positions: CheckpointPosition[],
  log?: Logger,
): Promise<MergeReport> {
  const report: MergeReport = { advanced: 0, added: 0 };
  if (positions.length === 0) return report;
  const store = new CheckpointStore(stateDir);
  const state = await store.load();
  const byKey = new Map<string, CheckpointEntry>();
  for (const e of state?.files ?? []) byKey.set(`${e.dev}:${e.ino}`, e);
  for (const p of positions) {
    const key = `${p.dev}:${p.ino}`;
    const current = byKey.get(key);
    if (!current) {
      byKey.set(key, { ...p, fingerprint: { ...p.fingerprint } });
      report.added++;
    } else if (p.offset > current.offset && !contentChanged(current, p)) {
      byKey.set(key, { ...p, path: current.path, fingerprint: { ...p.fingerprint } });
      report.advanced++;
    }
  }
  if (report.advanced + report.added === 0) return report;
  await store.save([...byKey.values()]);
  log?.info(
    { stateDir, advanced: report.advanced, added: report.added },
    'File checkpoints moved past what the spool already holds.',
  );
  return report;
}

/**
 * True when the checkpoint saw a different start of the file than the spool did (the file
 * was truncated or replaced after the spool's batch): the spool's offset belongs to old
 * content. A longer fingerprint in the checkpoint also means it is the newer of the two.
 */
function contentChanged(current: CheckpointEntry, p: CheckpointPosition): boolean {
  if (current.fingerprint.bytes > p.fingerprint.bytes) return true;
  return (
    current.fingerprint.bytes === p.fingerprint.bytes &&
    current.fingerprint.hash !== p.fingerprint.hash
  );
}
