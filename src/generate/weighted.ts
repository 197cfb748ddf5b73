// Weighted choice in O(log n) from a cumulative table, and a Zipf table for heavy-tailed
// popularity (a few paths get most hits, a long tail gets a few each).

import type { Prng } from './prng.js';

/** Picks items with probability proportional to their weights. */
export class Weighted<T> {
  readonly items: readonly T[];
  private readonly weights: Float64Array;
  private readonly total: number;
  /** Walker's alias table: one draw, one compare per pick, whatever the number of items. */
  private readonly keep: Float64Array;
  private readonly alias: Uint32Array;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    const kept = entries.filter(([, w]) => w > 0);
    this.items = kept.map(([item]) => item);
    this.weights = Float64Array.from(kept.map(([, w]) => w));
    this.total = this.weights.reduce((a, b) => a + b, 0);
    const n = kept.length;
    this.keep = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const scaled = Array.from(this.weights, (w) => (w * n) / this.total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      this.keep[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    for (const i of large.concat(small)) {
      this.keep[i] = 1;
      this.alias[i] = i;
    }
  }

  get size(): number {
    return this.items.length;
  }

  pick(rng: Prng): T {
    const x = rng.float() * this.keep.length;
    const i = x | 0;
    return this.items[x - i < this.keep[i] ? i : this.alias[i]];
  }

  /** The probability of the item at index i (for tests and docs). */
  probability(i: number): number {
    return this.weights[i] / this.total;
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
