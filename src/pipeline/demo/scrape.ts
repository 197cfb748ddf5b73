// Reads a process's Prometheus /metrics over HTTP into sums by metric name, so the demo's
// status and conservation report show the very numbers each process exports.

export type Scrape = Map<string, Array<{ labels: Record<string, string>; value: number }>>;

export async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(5000),
  });
  return parseProm(await res.text());
}

export function parseProm(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const list = out.get(m[1]) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1], list);
  }
  return out;
}

/** The sum of a metric over the label sets that match `labels`. */
export function total(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const v of s.get(name) ?? []) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}

/** Sums by one label's value. */
export function byLabel(s: Scrape, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of s.get(name) ?? []) {
    const key = v.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}
