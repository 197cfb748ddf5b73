// The conservation report: for every stage, what came in, what went out, and what was left
// out and why, read from the same counters as /metrics. A stage balances when
// in = out + dropped (transforms) or in = delivered + rejected (sinks, once drained).

import { registry } from '../telemetry/metrics.js';
import type { StageConfig } from './config.js';

export interface StageBalance {
  stage: string;
  kind: StageConfig['kind'];
  in: number;
  out: number;
  dropped: Record<string, number>;
  delivered?: number;
  rejected?: Record<string, number>;
  balanced: boolean;
}

async function byStage(name: string): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const labels = v.labels as Record<string, string>;
    const stage = String(labels.stage);
    const reason = labels.reason ? String(labels.reason) : '';
    const inner = out.get(stage) ?? new Map<string, number>();
    inner.set(reason, (inner.get(reason) ?? 0) + v.value);
    out.set(stage, inner);
  }
  return out;
}

const sum = (m?: Map<string, number>) => [...(m?.values() ?? [])].reduce((a, b) => a + b, 0);

export async function conservationReport(stages: StageConfig[]): Promise<StageBalance[]> {
  const [ins, outs, drops, delivered, rejected] = await Promise.all([
    byStage('sluice_pipeline_records_in_total'),
    byStage('sluice_pipeline_records_out_total'),
    byStage('sluice_pipeline_records_dropped_total'),
    byStage('sluice_pipeline_records_delivered_total'),
    byStage('sluice_pipeline_records_rejected_total'),
  ]);
  return stages.map((s) => {
    const row: StageBalance = {
      stage: s.name,
      kind: s.kind,
      in: sum(ins.get(s.name)),
      out: sum(outs.get(s.name)),
      dropped: Object.fromEntries(drops.get(s.name) ?? []),
      balanced: true,
    };
    if (s.kind === 'source') row.in = row.out;
    if (s.kind === 'transform') row.balanced = row.in === row.out + sum(drops.get(s.name));
    if (s.kind === 'sink') {
      row.delivered = sum(delivered.get(s.name));
      row.rejected = Object.fromEntries(rejected.get(s.name) ?? []);
      row.out = row.delivered;
      row.balanced = row.in === row.delivered + sum(rejected.get(s.name));
    }
    return row;
  });
}

export function formatConservation(rows: StageBalance[]): string {
  const lines = ['stage                 kind       in          out         dropped/rejected'];
  for (const r of rows) {
    const lost = { ...r.dropped, ...(r.rejected ?? {}) };
    const why = Object.entries(lost)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
    lines.push(
      `${r.stage.padEnd(21)} ${r.kind.padEnd(10)} ${String(r.in).padStart(10)}  ` +
        `${String(r.out).padStart(10)}  ${why || '-'}${r.balanced ? '' : '  (UNBALANCED)'}`,
    );
  }
  const ok = rows.every((r) => r.balanced);
  lines.push(ok ? 'Every stage balances.' : 'Some stages do not balance; see UNBALANCED above.');
  return lines.join('\n');
}
