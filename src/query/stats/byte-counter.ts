// Counting values given as byte ranges of an input block, without making a string per line:
// an open-addressing hash table over copies of the distinct keys. The first `capacity` distinct
// values are counted here exactly; further new values go straight to the top-k counter (as
// strings), and flush() hands the exact counts over in one weighted add each.

import type { TopK } from './top-k.js';

const EMPTY = -1;
/** Longer values are rare and go to the top-k counter as strings, keeping the arena small. */
const MAX_KEY_BYTES = 256;

export class ByteCounter {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private arena: Buffer = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private readonly hashes: number[] = [];
  private counts: number[] = [];

  constructor(
    private readonly target: TopK,
    private readonly capacity: number,
  ) {
    let size = 1024;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
  }

  /** Counts the UTF-8 value buf[s, e) (distinct bytes may decode to one value: merged later). */
  add(buf: Buffer, s: number, e: number): void {
    if (e - s > MAX_KEY_BYTES) {
      this.target.add(buf.toString('utf8', s, e));
      return;
    }
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const len = e - s;
    let slot = h & this.mask;
    for (;;) {
      const k = this.slots[slot];
      if (k === EMPTY) break;
      if (this.hashes[k] === h && this.lengths[k] === len && this.same(k, buf, s, len)) {
        this.counts[k]++;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.counts.length >= this.capacity) {
      this.target.add(buf.toString('utf8', s, e));
      return;
    }
    this.slots[slot] = this.counts.length;
    this.starts.push(this.keep(buf, s, len));
    this.lengths.push(len);
    this.hashes.push(h);
    this.counts.push(1);
  }

  /** Adds the exact counts to the top-k counter and starts again from zero counts. */
  flush(): void {
    for (let k = 0; k < this.counts.length; k++) {
      const value = this.arena.toString('utf8', this.starts[k], this.starts[k] + this.lengths[k]);
      this.target.addCount(value, this.counts[k]);
    }
    this.counts = this.counts.map(() => 0);
  }

  private same(k: number, buf: Buffer, s: number, len: number): boolean {
    const a = this.arena;
    const at = this.starts[k];
    for (let i = 0; i < len; i++) if (a[at + i] !== buf[s + i]) return false;
    return true;
  }

  private keep(buf: Buffer, s: number, len: number): number {
    if (this.used + len > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.used + len));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    buf.copy(this.arena, this.used, s, s + len);
    const at = this.used;
    this.used += len;
    return at;
  }
}
