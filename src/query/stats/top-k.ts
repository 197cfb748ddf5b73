// Bounded top-k counting (Space-Saving, Metwally et al. 2005): at most `capacity` counters.
// While fewer distinct values than that have been seen, the counts are exact; after that a new
// value takes over the smallest counter and inherits its count as its possible overcount, so
// every reported count is an upper bound and `count - error` a lower bound.

export interface TopEntry {
  value: string;
  count: number;
  /** How much `count` may exceed the true count (0 when exact). */
  error: number;
}

interface Counter extends TopEntry {
  /** Position in the min-heap. */
  slot: number;
}

/** Default number of counters kept per field: exact up to this many distinct values. */
export const DEFAULT_TOP_CAPACITY = 10_000;

/**
 * A string that does not share memory with the text it was cut from. V8 keeps a slice of a
 * long string as a view on it, so a kept value could pin a whole 4 MiB input block.
 */
function ownCopy(value: string): string {
  return value.length < 13 ? value : Buffer.from(value, 'utf8').toString('utf8');
}

export class TopK {
  private readonly index = new Map<string, Counter>();
  private readonly heap: Counter[] = [];
  private total = 0;

  constructor(private readonly capacity = DEFAULT_TOP_CAPACITY) {}

  /** True once values were evicted, so counts are estimates. */
  get approximate(): boolean {
    return this.heap.length > 0 && this.heap[0].error > 0;
  }

  get seen(): number {
    return this.total;
  }

  add(value: string): void {
    this.addCount(value, 1);
  }

  /** Counts `n` occurrences of a value at once (Space-Saving with weights). */
  addCount(value: string, n: number): void {
    if (n <= 0) return;
    this.total += n;
    const hit = this.index.get(value);
    if (hit !== undefined) {
      hit.count += n;
      this.siftDown(hit.slot);
      return;
    }
    value = ownCopy(value);
    if (this.heap.length < this.capacity) {
      const c: Counter = { value, count: n, error: 0, slot: this.heap.length };
      this.heap.push(c);
      this.index.set(value, c);
      this.siftUp(c.slot);
      return;
    }
    const min = this.heap[0];
    this.index.delete(min.value);
    min.value = value;
    min.error = min.count;
    min.count += n;
    this.index.set(value, min);
    this.siftDown(0);
  }

  /** The n largest counters, largest first. */
  top(n: number): TopEntry[] {
    return [...this.heap]
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, n)
      .map(({ value, count, error }) => ({ value, count, error }));
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].count <= h[i].count) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].count < h[m].count) m = l;
      if (r < h.length && h[r].count < h[m].count) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a];
    h[a] = h[b];
    h[b] = t;
    h[a].slot = a;
    h[b].slot = b;
  }
}
