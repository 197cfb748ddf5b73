// Time order of reads: segments whose time ranges overlap are merged by timestamp, blocks
// stored out of order within a segment are merged within the look-ahead window, and records
// out of order inside one batch are sorted; `order: 'storage'` keeps the stored order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { openStoreReader, openStoreWriter, verifyStore } from '../../src/store/index.js';
import type { StoreReaderOptions } from '../../src/store/index.js';
import type { LogRecord } from '../../src/record/record.js';
import {
  mergeByTime,
  type MergeOptions,
  type Piece,
  type PieceSource,
} from '../../src/store/merge.js';

const BASE = Date.parse('2026-03-01T00:00:00.000Z');

function rec(i: number): LogRecord {
  return {
    timestamp: new Date(BASE + i * 1000).toISOString(),
    level: 'info',
    severity: 9,
    message: `event ${i}`,
    format: 'json',
    fields: { seq: i },
  };
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function read(dir: string, opts: StoreReaderOptions = {}): Promise<number[]> {
  const out: number[] = [];
  for await (const batch of openStoreReader(dir, opts)) {
    for (const r of batch) out.push(r.fields?.seq as number);
  }
  return out;
}

const isSorted = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] <= x);
const sortedCopy = (xs: number[]) => [...xs].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = tempDir('sluice-store-order-');
  try {
    await body(join(tmp.path, 'store'));
  } finally {
    tmp.cleanup();
  }
}

/**
 * Two writer sessions (so two segments) with interleaved times: even seconds first, then odd
 * ones in batches appended shuffled within groups of 4, one batch with
 * its records reversed.
 */
async function buildInterleaved(dir: string, compression: 'none' | 'gzip'): Promise<number[]> {
  const all: number[] = [];
  const w1 = await openStoreWriter(dir, { compression, fsync: 'never' });
  for (let b = 0; b < 20; b++) {
    const batch = Array.from({ length: 50 }, (_, k) => rec(2 * (b * 50 + k)));
    await w1.append(batch);
  }
  await w1.close();
  for (let i = 0; i < 1000; i++) all.push(2 * i);
  const w2 = await openStoreWriter(dir, { compression, fsync: 'never' });
  const batches: LogRecord[][] = [];
  for (let b = 0; b < 20; b++) {
    batches.push(Array.from({ length: 50 }, (_, k) => rec(2 * (b * 50 + k) + 1)));
  }
  // Shuffle within groups of 4: no batch lands more than 3 places from where it belongs.
  const rnd = random(7);
  for (let g = 0; g < batches.length; g += 4) {
    for (let i = g + 3; i > g; i--) {
      const j = g + Math.floor(rnd() * (i - g + 1));
      [batches[i], batches[j]] = [batches[j], batches[i]];
    }
  }
  batches[5].reverse();
  for (const b of batches) {
    await w2.append(b);
    for (const r of b) all.push(r.fields?.seq as number);
  }
  await w2.close();
  return all;
}

for (const compression of ['none', 'gzip'] as const) {
  test(`store - reads merge overlapping segments and late blocks by time (${compression})`, async () => {
    await withDir(async (dir) => {
      const stored = await buildInterleaved(dir, compression);
      const asStored = await read(dir, { order: 'storage' });
      assert.deepEqual(sortedCopy(asStored), sortedCopy(stored));
      assert.equal(isSorted(asStored), false, 'the fixture is out of order as stored');
      const timed = await read(dir);
      assert.deepEqual(timed, sortedCopy(stored));
      // A window that cuts through blocks of both segments.
      const since = BASE + 333_000;
      const until = BASE + 1_444_000;
      const window = await read(dir, { since, until });
      assert.deepEqual(
        window,
        sortedCopy(stored).filter((s) => s >= 333 && s <= 1444),
      );
      const report = await verifyStore(dir);
      assert.deepEqual(report.problems, []);
    });
  });
}

test('store - a block stored far later than the look-ahead still comes out, once', async () => {
  await withDir(async (dir) => {
    const w = await openStoreWriter(dir, { compression: 'none', fsync: 'never' });
    // The oldest batch is stored after 30 newer ones: beyond the 8-block window.
    for (let b = 1; b <= 30; b++)
      await w.append(Array.from({ length: 10 }, (_, k) => rec(b * 10 + k)));
    await w.append(Array.from({ length: 10 }, (_, k) => rec(k)));
    await w.close();
    const got = await read(dir);
    assert.deepEqual(
      sortedCopy(got),
      Array.from({ length: 310 }, (_, i) => i),
    );
  });
});

test('store - flush makes earlier appends durable now under fsync interval', async () => {
  await withDir(async (dir) => {
    const w = await openStoreWriter(dir, { fsync: 'interval', fsyncIntervalMs: 60_000 });
    await w.append([rec(1)]); // the first sync after a quiet spell is immediate
    let resolved = false;
    const second = w.append([rec(2)]).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(resolved, false, 'waits for the next interval');
    await w.flush();
    assert.equal(resolved, true);
    await second;
    await w.close();
  });
});

test('store - many appends in flight at once come back byte for byte', async () => {
  await withDir(async (dir) => {
    const w = await openStoreWriter(dir, { compression: 'none', fsync: 'interval' });
    const rnd = random(11);
    const appends: Array<Promise<unknown>> = [];
    let next = 0;
    // Sizes vary so that pooled payload buffers of different sizes are reused while earlier
    // blocks are still queued or being written.
    for (let b = 0; b < 120; b++) {
      const n = 1 + Math.floor(rnd() * 400);
      appends.push(w.append(Array.from({ length: n }, (_, k) => rec(next + k))));
      next += n;
      if (b % 10 === 9) await Promise.all(appends.splice(0, 5));
    }
    await Promise.all(appends);
    await w.close();
    const got = await read(dir, { order: 'storage' });
    assert.deepEqual(
      got,
      Array.from({ length: next }, (_, i) => i),
    );
  });
});

test('store - the merge lets every record out, also unreadable times and over its memory cap', async () => {
  const line = (i: number) => JSON.stringify(rec(i)) + '\n';
  const piece = (ids: number[], extra = ''): Piece => ({
    payload: Buffer.from(ids.map(line).join('') + extra),
    minTs: BASE + Math.min(...ids) * 1000,
    maxTs: BASE + Math.max(...ids) * 1000,
    sorted: false,
  });
  const source = (pieces: Piece[]): PieceSource => ({
    firstTs: -Infinity,
    open: async function* () {
      yield* pieces;
    },
  });
  const odd = '{"message":"no time here"}\n';
  const collect = async (opts: MergeOptions) => {
    const sources = [
      source([piece([5, 1, 3], odd), piece([7, 9])]),
      source([piece([2, 8]), piece([4, 6, 0])]),
    ];
    let text = '';
    for await (const chunk of mergeByTime(sources, opts)) text += chunk.toString();
    return text.trim().split('\n');
  };
  for (const opts of [{}, { maxBufferedBytes: 1 }, { lookaheadPieces: 1 }]) {
    const lines = await collect(opts);
    assert.equal(lines.length, 11, JSON.stringify(opts));
    assert.ok(lines.includes(odd.trim()));
    const seqs = lines
      .filter((l) => l !== odd.trim())
      .map((l) => (JSON.parse(l) as LogRecord).fields?.seq as number);
    assert.deepEqual(sortedCopy(seqs), range(10));
    if (Object.keys(opts).length === 0) assert.deepEqual(seqs, range(10));
  }
});
