// Weighted choice in O(log n) from a cumulative table, and a Zipf table for heavy-tailed
// popularity (a few paths get most hits, a long tail gets a few each).

import type { Prng } from './prng.js';

/** Picks items with probability proportional to their weights. */
export class Weighted<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    const kept = entries.filter(([, w]) => w > 0);
    this.items = kept.map(([item]) => item);
    this.cumulative = new Float64Array(kept.length);
    let sum = 0;
    kept.forEach(([, w], i) => {
      sum += w;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  get size(): number {
    return this.items.length;
  }

  pick(rng: Prng): T {
    const target = rng.float() * this.total;
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }

  /** The probability of the item at index i (for tests and docs). */
  probability(i: number): number {
    const prev = i === 0 ? 0 : this.cumulative[i - 1];
    return (this.cumulative[i] - prev) / this.total;
  }
}

/** Builds a Weighted from a record such as `{ GET: 80, POST: 15 }`. */
export function weightedFromRecord(weights: Record<string, number>): Weighted<string> {
  return new Weighted(Object.entries(weights));
}

/** Items ranked by popularity, drawn with probability proportional to 1 / rank^exponent. */
export function zipf<T>(itemsByRank: readonly T[], exponent = 1.1): Weighted<T> {
  return new Weighted(itemsByRank.map((item, i) => [item, 1 / Math.pow(i + 1, exponent)] as const));
}
