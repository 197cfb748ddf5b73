// Retention: which closed segments to remove, oldest first, by age (time since the segment was
// closed), total size and count. The active segment and segments being compressed never go.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { componentLogger } from '../telemetry/logger.js';
import { INDEX_EXT } from './format.js';
import { storeMetrics } from './metrics.js';
import { syncDir } from './segment-index.js';
import type { SegmentInfo } from './segments.js';

export interface RetentionPolicy {
  retainAgeMs?: number;
  retainSizeBytes?: number;
  retainSegments?: number;
}

export interface RetentionRemoval {
  segment: string;
  reason: 'age' | 'size' | 'segments';
  records: number;
  bytes: number;
  path: string;
}

export interface RetentionPlan {
  remove: RetentionRemoval[];
  /** Segments and bytes left after the plan is applied. */
  keepSegments: number;
  keepBytes: number;
}

export function planRetention(
  segments: SegmentInfo[],
  policy: RetentionPolicy,
  now: number,
  busy: Set<string> = new Set(),
): RetentionPlan {
  const remove: RetentionRemoval[] = [];
  let totalBytes = segments.reduce((n, s) => n + s.sizeBytes, 0);
  const closed = segments.filter(
    (s) => (s.state === 'closed' || s.state === 'compressed') && !busy.has(s.name),
  );
  let closedLeft = closed.length;
  for (const s of closed) {
    let reason: RetentionRemoval['reason'] | undefined;
    if (policy.retainAgeMs !== undefined && now - (s.index?.closedAt ?? now) > policy.retainAgeMs) {
      reason = 'age';
    } else if (policy.retainSizeBytes !== undefined && totalBytes > policy.retainSizeBytes) {
      reason = 'size';
    } else if (policy.retainSegments !== undefined && closedLeft > policy.retainSegments) {
      reason = 'segments';
    }
    if (!reason) continue;
    remove.push({
      segment: s.name,
      reason,
      records: s.index?.records ?? 0,
      bytes: s.sizeBytes,
      path: s.path,
    });
    totalBytes -= s.sizeBytes;
    closedLeft--;
  }
  return { remove, keepSegments: segments.length - remove.length, keepBytes: totalBytes };
}

/** Removes the planned segments: data file first, then its index. */
export async function applyRetention(dir: string, plan: RetentionPlan): Promise<void> {
  const metrics = storeMetrics();
  for (const r of plan.remove) {
    await fsp.unlink(r.path).catch(() => undefined);
    await fsp.unlink(join(dir, r.segment + INDEX_EXT)).catch(() => undefined);
    metrics.purgedSegments.inc({ reason: r.reason });
    componentLogger('store').info(
      { dir, segment: r.segment, reason: r.reason, records: r.records, bytes: r.bytes },
      'Removed a segment by retention.',
    );
  }
  if (plan.remove.length > 0) await syncDir(dir);
}
