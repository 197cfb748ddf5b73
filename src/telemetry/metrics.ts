// One Prometheus registry for the process. Every stage registers its counters here, so
// /metrics, status lines, the dashboard and the conservation report read the same numbers.
// Names follow sluice_<thing>_<unit>_total for counters (STYLE.md habit 9).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaultsOn = false;

/** Adds Node.js process metrics (CPU, RSS, event loop lag) once per process. */
export function enableProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: registry, prefix: 'sluice_process_' });
}

export const METRIC_NAME = /^sluice_[a-z0-9_]+$/;

function existing<T>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** Returns the counter with this name, creating it on first use. */
export function counter<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return (
    existing<Counter<L>>(name) ??
    new Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry] })
  );
}

export function gauge<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return (
    existing<Gauge<L>>(name) ??
    new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] })
  );
}

export function histogram<L extends string = string>(
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return (
    existing<Histogram<L>>(name) ??
    new Histogram<L>({ name, help, buckets, labelNames: [...labelNames], registers: [registry] })
  );
}

/** Reads a counter or gauge's current value for one label set (0 when never set). */
export async function metricValue(name: string, labels: Record<string, string> = {}) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  let total = 0;
  for (const v of data.values) {
    const l = v.labels as Record<string, string>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) total += v.value;
  }
  return total;
}
