// Counts per time bucket (--histogram 1m). The number of buckets is bounded: when records span
// more than MAX_BUCKETS buckets (first to last, empty ones included), the bucket width doubles and counts are merged, so memory stays
// flat on any time range.

export const MAX_BUCKETS = 2000;

export class TimeHistogram {
  private counts = new Map<number, number>();
  private widthMs: number;

  constructor(
    readonly requestedWidthMs: number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {
    this.widthMs = requestedWidthMs;
  }

  get bucketMs(): number {
    return this.widthMs;
  }

  add(epochMs: number): void {
    if (!Number.isFinite(epochMs)) return;
    const key = Math.floor(epochMs / this.widthMs) * this.widthMs;
    const n = this.counts.get(key);
    this.counts.set(key, n === undefined ? 1 : n + 1);
    if (n === undefined && this.span() > this.maxBuckets) this.widen();
  }

  /** Every bucket from the first to the last, empty ones included, in time order. */
  buckets(): Array<{ startMs: number; count: number }> {
    if (this.counts.size === 0) return [];
    const keys = [...this.counts.keys()];
    const first = Math.min(...keys);
    const last = Math.max(...keys);
    const out: Array<{ startMs: number; count: number }> = [];
    for (let t = first; t <= last; t += this.widthMs) {
      out.push({ startMs: t, count: this.counts.get(t) ?? 0 });
    }
    return out;
  }

  private widen(): void {
    // Widening until the span fits: buckets() fills the gaps, so the span matters, not the
    // number of occupied buckets.
    do {
      this.widthMs *= 2;
      const merged = new Map<number, number>();
      for (const [k, v] of this.counts) {
        const key = Math.floor(k / this.widthMs) * this.widthMs;
        merged.set(key, (merged.get(key) ?? 0) + v);
      }
      this.counts = merged;
    } while (this.span() > this.maxBuckets);
  }

  /** Buckets from the first to the last (only computed when a new bucket appears). */
  private span(): number {
    let lo = Infinity;
    let hi = -Infinity;
    for (const k of this.counts.keys()) {
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    return (hi - lo) / this.widthMs + 1;
  }
}
