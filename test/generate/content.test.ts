// Content: heavy-tailed path popularity, weighted methods and statuses, IPv4 and IPv6 clients,
// spread-out sizes; and the weighted picker draws items in proportion to their weights.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator, Prng } from '../../src/generate/index.js';
import { flatString } from '../../src/generate/flat-string.js';
import { Weighted } from '../../src/generate/weighted.js';

test('generate - weighted picks follow their weights', () => {
  const w = new Weighted<string>([
    ['a', 1],
    ['b', 2],
    ['c', 7],
    ['never', 0],
  ]);
  const rng = new Prng('weights');
  const n = 200_000;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = w.pick(rng);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.get('never'), undefined);
  for (const [k, p] of [
    ['a', 0.1],
    ['b', 0.2],
    ['c', 0.7],
  ] as const) {
    assert.ok(Math.abs((counts.get(k) ?? 0) / n - p) < 0.01, `${k}: ${counts.get(k)}`);
  }
});

test('generate - web traffic looks like web traffic', () => {
  const gen = createGenerator({
    format: 'apache_combined',
    seed: 5,
    startTimeMs: 0,
    ratePerSec: 100,
  });
  const paths = new Map<string, number>();
  const statuses = new Map<number, number>();
  let v6 = 0;
  let gets = 0;
  const sizes: number[] = [];
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const r = gen.nextEvent().request;
    paths.set(r.path, (paths.get(r.path) ?? 0) + 1);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.clientIp.includes(':')) v6++;
    if (r.method === 'GET') gets++;
    if (r.status === 200) sizes.push(r.bytes);
  }
  const ranked = [...paths.values()].sort((a, b) => b - a);
  const top10 = ranked.slice(0, 10).reduce((a, b) => a + b, 0);
  assert.ok(top10 / n > 0.3, `top 10 paths carry ${top10 / n} of hits`);
  assert.ok(ranked.length > 80, `long tail of ${ranked.length} paths`);
  assert.ok(ranked.at(-1)! < ranked[0] / 50, 'tail much rarer than head');
  assert.ok((statuses.get(200) ?? 0) / n > 0.6, 'mostly 200');
  assert.ok((statuses.get(404) ?? 0) > 0 && [...statuses.keys()].some((s) => s >= 500));
  assert.ok(v6 / n > 0.05 && v6 / n < 0.4, `IPv6 share ${v6 / n}`);
  assert.ok(gets / n > 0.6 && gets < n, `GET share ${gets / n}`);
  sizes.sort((a, b) => a - b);
  const p50 = sizes[Math.floor(sizes.length / 2)];
  const p99 = sizes[Math.floor(sizes.length * 0.99)];
  assert.ok(p99 > p50 * 5, `sizes spread: p50 ${p50}, p99 ${p99}`);
});

test('generate - the byte fast path writes exactly the lines of the string formatter', () => {
  for (const format of ['apache_common', 'apache_combined'] as const) {
    for (const scenario of ['web', 'healthcare', 'incident']) {
      const opts = { format, scenario, seed: 21, startTimeMs: 1e12, ratePerSec: 300 };
      const fast = createGenerator(opts);
      const slow = createGenerator(opts);
      const bytes = Buffer.concat([fast.chunk(3000).data, fast.chunk(3000).data]).toString(
        'latin1',
      );
      const lines = slow.lines(6000).join('\n') + '\n';
      assert.equal(bytes, lines, `${format} ${scenario}`);
    }
  }
});

test('generate - flattening keeps every string exactly as it was', () => {
  const long = 'https://shop.example.com' + '/products/' + 'trail-runner-2';
  const samples = [long, 'x'.repeat(12), 'Łukasz Żółć ' + long, 'José Núñez-García ' + long, ''];
  samples.push('\u0000\u00ff\ud83d\ude00 ' + long, 'a\ud800b' + long);
  for (const s of samples) assert.equal(flatString(s), s);
});
