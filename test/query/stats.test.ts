// Bounded statistics: exact top-k while it fits, honest bounds once it does not, and a
// histogram whose bucket count stays bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopK } from '../../src/query/stats/top-k.js';
import { TimeHistogram } from '../../src/query/stats/histogram.js';
import { ByteCounter } from '../../src/query/stats/byte-counter.js';

test('query stats - top-k is exact while distinct values fit', () => {
  const top = new TopK(10);
  const input = ['a', 'b', 'a', 'c', 'a', 'b', 'd'];
  for (const v of input) top.add(v);
  assert.equal(top.approximate, false);
  assert.deepEqual(
    top.top(3).map((e) => [e.value, e.count, e.error]),
    [
      ['a', 3, 0],
      ['b', 2, 0],
      ['c', 1, 0],
    ],
  );
});

test('query stats - top-k bounds hold once values are evicted', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 600 }), (values) => {
      const capacity = 16;
      const top = new TopK(capacity);
      const truth = new Map<string, number>();
      for (const v of values) {
        const k = String(v % 7 === 0 ? 0 : v);
        top.add(k);
        truth.set(k, (truth.get(k) ?? 0) + 1);
      }
      if (truth.size <= capacity) assert.equal(top.approximate, false);
      for (const e of top.top(capacity)) {
        const real = truth.get(e.value) ?? 0;
        assert.ok(e.count >= real, 'count is an upper bound');
        assert.ok(e.count - e.error <= real, 'count - error is a lower bound');
      }
      // Space-Saving guarantee: any value with more than n/capacity hits is kept.
      for (const [k, n] of truth) {
        if (n > values.length / capacity) assert.ok(top.top(capacity).some((e) => e.value === k));
      }
    }),
    { numRuns: 200 },
  );
});

test('query stats - top-k says approximate when distinct values exceed its counters', () => {
  const top = new TopK(100);
  for (let i = 0; i < 10_000; i++) top.add(`v${i}`);
  for (let i = 0; i < 500; i++) top.add('hot');
  assert.equal(top.approximate, true);
  assert.equal(top.top(1)[0].value, 'hot');
});

test('query stats - histogram counts per bucket and fills empty buckets', () => {
  const h = new TimeHistogram(60_000);
  const t0 = Date.parse('2026-03-01T10:00:00Z');
  for (const offset of [0, 1_000, 59_999, 60_000, 180_500]) h.add(t0 + offset);
  assert.deepEqual(
    h.buckets().map((b) => [new Date(b.startMs).toISOString(), b.count]),
    [
      ['2026-03-01T10:00:00.000Z', 3],
      ['2026-03-01T10:01:00.000Z', 1],
      ['2026-03-01T10:02:00.000Z', 0],
      ['2026-03-01T10:03:00.000Z', 1],
    ],
  );
});

test('query stats - histogram widens its buckets to stay bounded', () => {
  const h = new TimeHistogram(60_000, 100);
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  let n = 0;
  for (let m = 0; m < 24 * 60 * 7; m += 3) {
    h.add(t0 + m * 60_000);
    n++;
  }
  const buckets = h.buckets();
  assert.ok(buckets.length <= 100, `${buckets.length} buckets`);
  assert.ok(h.bucketMs > 60_000);
  assert.equal(
    buckets.reduce((a, b) => a + b.count, 0),
    n,
  );
});

test('query stats - counting byte ranges gives the counts of the strings, exact or bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('/a', '/b', '/é', '/long/path', '', 'x'.repeat(300), '/c'), {
        maxLength: 200,
      }),
      fc.integer({ min: 2, max: 8 }),
      (values, capacity) => {
        const top = new TopK(capacity);
        const bytes = new ByteCounter(top, capacity);
        const text = values.join('\n');
        const buf = Buffer.from(text);
        let s = 0;
        for (const v of values) {
          const n = Buffer.byteLength(v);
          bytes.add(buf, s, s + n);
          s += n + 1;
        }
        bytes.flush();
        const truth = new Map<string, number>();
        for (const v of values) truth.set(v, (truth.get(v) ?? 0) + 1);
        assert.equal(top.seen, values.length);
        for (const e of top.top(capacity)) {
          const real = truth.get(e.value) ?? 0;
          assert.ok(e.count >= real && e.count - e.error <= real, `${e.value}: ${e.count}`);
        }
        if (truth.size <= capacity) {
          assert.equal(top.approximate, false);
          for (const e of top.top(capacity)) assert.equal(e.count, truth.get(e.value));
        }
      },
    ),
    { numRuns: 300 },
  );
});
