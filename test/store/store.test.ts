// Store behaviour through the library: rotation, compression, retention, de-duplication,
// time ranges, the lock, recovery of torn tails, verify, and following a writer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import {
  listSegments,
  openStoreReader,
  openStoreWriter,
  verifyStore,
  type StoreOptions,
} from '../../src/store/index.js';
import { StoreError } from '../../src/errors.js';
import type { LogRecord } from '../../src/record/record.js';

const FAST: StoreOptions = { fsyncIntervalMs: 5 };
const BASE = Date.parse('2026-03-01T00:00:00.000Z');

function records(from: number, n: number, stepMs = 1000): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      timestamp: new Date(BASE + i * stepMs).toISOString(),
      level: i % 10 === 0 ? 'error' : 'info',
      severity: i % 10 === 0 ? 17 : 9,
      message: `GET /item/${i} HTTP/1.1`,
      host: 'web1',
      service: i % 2 ? 'api' : 'web',
      format: 'apache_common',
      http: { method: 'GET', path: `/item/${i}`, status: i % 10 === 0 ? 500 : 200, bytes: i },
      fields: { seq: i, big: 12345678901234567890n },
    });
  }
  return out;
}

async function readAll(dir: string, opts = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const batch of openStoreReader(dir, opts)) out.push(...batch);
  return out;
}

const seqs = (recs: LogRecord[]) => recs.map((r) => r.fields?.seq as number);
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function withStore(opts: StoreOptions, body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = tempDir('sluice-store-');
  try {
    await body(join(tmp.path, 'store'));
  } finally {
    tmp.cleanup();
  }
  void opts;
}

test('store - appends, reads back and keeps integers beyond 2^53', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, fsync: 'always' });
    const r = await w.append(records(0, 100));
    assert.deepEqual(r, { stored: 100, duplicate: false });
    assert.equal(w.stats().records, 100);
    await w.close();
    const back = await readAll(dir);
    assert.deepEqual(back, records(0, 100));
    assert.equal(typeof back[0].fields?.big, 'bigint');
  });
});

test('store - rotates by size and every record survives rotation', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, {
      ...FAST,
      segmentSizeBytes: 16 * 1024,
      compression: 'none',
    });
    for (let i = 0; i < 20; i++) await w.append(records(i * 50, 50));
    await w.close();
    const segments = await listSegments(dir);
    assert.ok(segments.length >= 5, `${segments.length} segments`);
    for (const s of segments) assert.equal(s.state, 'closed');
    assert.deepEqual(seqs(await readAll(dir)), range(0, 1000));
  });
});

test('store - rotates by age', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, segmentAgeMs: 100, compression: 'none' });
    await w.append(records(0, 10));
    await new Promise((r) => setTimeout(r, 400));
    await w.append(records(10, 10));
    const before = await listSegments(dir);
    await w.close();
    assert.ok(before.length >= 2, `${before.length} segments after the age passed`);
    assert.equal(before[0].state, 'closed');
    assert.deepEqual(seqs(await readAll(dir)), range(0, 20));
  });
});

test('store - compression leaves content identical', async () => {
  const tmp = tempDir('sluice-store-');
  try {
    const outputs: string[] = [];
    for (const compression of ['none', 'gzip'] as const) {
      const dir = join(tmp.path, compression);
      const w = await openStoreWriter(dir, { ...FAST, segmentSizeBytes: 32 * 1024, compression });
      for (let i = 0; i < 10; i++) await w.append(records(i * 100, 100));
      await w.close();
      const states = new Set((await listSegments(dir)).map((s) => s.state));
      assert.deepEqual([...states], [compression === 'gzip' ? 'compressed' : 'closed']);
      const chunks: Buffer[] = [];
      for await (const c of openStoreReader(dir).raw()) chunks.push(c);
      outputs.push(Buffer.concat(chunks).toString('utf8'));
      assert.deepEqual((await verifyStore(dir)).problems, []);
    }
    assert.equal(outputs[0].split('\n').length, 1001);
    assert.equal(outputs[1], outputs[0]);
    const gz = await listSegments(join(tmp.path, 'gzip'));
    const raw = gz.reduce((n, s) => n + (s.index?.rawBytes ?? 0), 0);
    const stored = gz.reduce((n, s) => n + s.sizeBytes, 0);
    assert.ok(stored * 3 < raw, `compressed ${raw} bytes only to ${stored}`);
  } finally {
    tmp.cleanup();
  }
});

async function fillSegments(dir: string, n: number, opts: StoreOptions = {}) {
  const w = await openStoreWriter(dir, { ...FAST, compression: 'none', ...opts });
  for (let i = 0; i < n; i++) {
    await w.append(records(i * 10, 10));
    await w.rotate();
  }
  return w;
}

test('store - retention by segment count removes the oldest closed segments', async () => {
  await withStore({}, async (dir) => {
    const w = await fillSegments(dir, 5);
    await w.append(records(1000, 5));
    const plan = await w.purge({ dryRun: true });
    assert.equal(plan.remove.length, 0, 'no policy, nothing to remove');
    await w.close();
    const w2 = await openStoreWriter(dir, { ...FAST, compression: 'none', retainSegments: 2 });
    const done = await w2.purge();
    assert.deepEqual(
      done.remove.map((r) => r.reason),
      ['segments', 'segments', 'segments', 'segments'],
    );
    await w2.append(records(2000, 1));
    const left = await listSegments(dir);
    assert.deepEqual(
      left.map((s) => s.state),
      ['closed', 'closed', 'active'],
    );
    await w2.close();
    assert.deepEqual(seqs(await readAll(dir)).slice(0, 1), [40]);
  });
});

test('store - retention by size keeps the newest segments under the limit', async () => {
  await withStore({}, async (dir) => {
    const w = await fillSegments(dir, 6);
    const closed = (await listSegments(dir)).filter((s) => s.state === 'closed');
    const sizes = closed.map((s) => s.sizeBytes);
    const limit = sizes.slice(-3).reduce((a, b) => a + b, 0) + 100;
    await w.close();
    const w2 = await openStoreWriter(dir, { ...FAST, compression: 'none', retainSizeBytes: limit });
    const plan = await w2.purge();
    await w2.close();
    assert.ok(plan.remove.every((r) => r.reason === 'size'));
    const left = await listSegments(dir);
    assert.ok(left.reduce((n, s) => n + s.sizeBytes, 0) <= limit);
    assert.deepEqual(
      left.map((s) => s.name),
      ['000000000004', '000000000005', '000000000006'],
    );
  });
});

test('store - retention by age runs on its timer and never takes the active segment', async () => {
  await withStore({}, async (dir) => {
    const w = await fillSegments(dir, 3, { retainAgeMs: 50, retentionIntervalMs: 50 });
    await w.append(records(500, 3));
    await new Promise((r) => setTimeout(r, 300));
    const left = await listSegments(dir);
    assert.deepEqual(
      left.map((s) => s.state),
      ['active'],
    );
    await w.close();
    assert.deepEqual(seqs(await readAll(dir)), [500, 501, 502]);
  });
});

test('store - a batch id is stored once, also after a restart', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, compression: 'none' });
    const [a, b] = await Promise.all([
      w.append(records(0, 10), { batchId: 'x1' }),
      w.append(records(0, 10), { batchId: 'x1' }),
    ]);
    assert.deepEqual([a.stored, b.stored, b.duplicate], [10, 0, true]);
    await w.close();
    const w2 = await openStoreWriter(dir, { ...FAST, compression: 'none' });
    assert.deepEqual(await w2.append(records(0, 10), { batchId: 'x1' }), {
      stored: 0,
      duplicate: true,
    });
    assert.equal((await w2.append(records(10, 5), { batchId: 'x2' })).stored, 5);
    await w2.close();
    assert.deepEqual(seqs(await readAll(dir)), range(0, 15));
  });
});

test('store - since/until reads exactly the records in the window', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, segmentSizeBytes: 64 * 1024 });
    for (let i = 0; i < 40; i++) await w.append(records(i * 100, 100));
    await w.close();
    const since = BASE + 1234 * 1000;
    const until = BASE + 2345 * 1000;
    const got = seqs(await readAll(dir, { since, until }));
    assert.deepEqual(got, range(1234, 2345 - 1234 + 1));
  });
});

test('store - a second writer is refused with the holder named', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, FAST);
    await assert.rejects(openStoreWriter(dir, FAST), (err: Error) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /locked by this process/);
      return true;
    });
    await w.close();
    const again = await openStoreWriter(dir, FAST);
    await again.close();
  });
});

test('store - a stale lock from a dead process is taken over', async () => {
  await withStore({}, async (dir) => {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(join(dir, 'LOCK'), '999999999\n');
    const w = await openStoreWriter(dir, FAST);
    assert.equal(await fsp.readFile(join(dir, 'LOCK'), 'utf8'), `${process.pid}\n`);
    await w.close();
  });
});

test('store - recovery keeps whole blocks and quarantines a torn tail at any cut', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, compression: 'none' });
    for (let i = 0; i < 4; i++) await w.append(records(i * 3, 3));
    const seg = join(dir, `${w.stats().activeSegment}.seg`);
    // Copy the active segment as it is on disk, as a crash would leave it.
    const whole = await fsp.readFile(seg);
    await w.close();
    const blockEnds: number[] = [];
    const sizes = [16];
    for (const b of await blockOffsets(whole)) {
      blockEnds.push(b.end);
      sizes.push(b.end);
    }
    const lastThree = sizes[sizes.length - 4];
    const cuts = [lastThree + 1, sizes[sizes.length - 2] - 1, whole.length - 5, whole.length];
    for (const cut of cuts) {
      await fsp.rm(dir, { recursive: true, force: true });
      await fsp.mkdir(dir);
      await fsp.writeFile(join(dir, '000000000001.seg'), whole.subarray(0, cut));
      const r = await openStoreWriter(dir, { ...FAST, compression: 'none' });
      const kept = blockEnds.filter((e) => e <= cut).length;
      assert.equal(r.recovery[0].keptRecords, kept * 3, `cut at ${cut}`);
      assert.equal(r.recovery[0].quarantinedBytes, cut - (blockEnds[kept - 1] ?? 16));
      await r.close();
      assert.deepEqual(seqs(await readAll(dir)), range(0, kept * 3));
      assert.deepEqual((await verifyStore(dir)).problems, []);
    }
  });
});

async function blockOffsets(buf: Buffer): Promise<Array<{ end: number }>> {
  const out: Array<{ end: number }> = [];
  let at = 16;
  while (at + 8 <= buf.length) {
    const end = at + 12 + buf.readUInt32LE(at + 4);
    out.push({ end });
    at = end;
  }
  return out;
}

test('store - a flipped byte in a closed segment makes verify name that segment', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, compression: 'gzip' });
    await w.append(records(0, 200));
    await w.rotate();
    await w.append(records(200, 10));
    await w.close();
    const [first] = await listSegments(dir);
    const bytes = await fsp.readFile(first.path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    await fsp.writeFile(first.path, bytes);
    const report = await verifyStore(dir);
    assert.ok(report.problems.length > 0);
    assert.ok(report.problems.every((p) => p.file === first.path));
    // A reader never returns the corrupt block's records, and still returns the rest.
    const back = seqs(await readAll(dir));
    assert.deepEqual(back, range(200, 10));
  });
});

test('store - a reader follows a writer across rotation', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, segmentSizeBytes: 8 * 1024 });
    await w.append(records(0, 10));
    const reader = openStoreReader(dir, { follow: true, pollIntervalMs: 20 });
    const got: number[] = [];
    const reading = (async () => {
      for await (const batch of reader) {
        got.push(...seqs(batch));
        if (got.length >= 500) reader.close();
      }
    })();
    for (let i = 1; i < 50; i++) {
      await w.append(records(i * 10, 10));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    await reading;
    const segments = await listSegments(dir);
    await w.close();
    assert.ok(segments.length >= 4, `${segments.length} segments`);
    assert.deepEqual(got, range(0, 500));
  });
});

/** A store of three closed segments of 50 records each (and nothing active). */
async function threeSegments(dir: string, compression: 'gzip' | 'none'): Promise<void> {
  const w = await openStoreWriter(dir, { ...FAST, compression });
  for (let i = 0; i < 3; i++) {
    await w.append(records(i * 50, 50));
    await w.rotate();
  }
  await w.close();
}

for (const compression of ['gzip', 'none'] as const) {
  test(`store - a lost or damaged index (${compression}) hides no records and fails verify`, async () => {
    await withStore({}, async (dir) => {
      await threeSegments(dir, compression);
      const [first, second] = await listSegments(dir);
      await fsp.rm(join(dir, `${second.name}.idx`));
      await fsp.writeFile(join(dir, `${first.name}.idx`), 'garbage');
      const listed = await listSegments(dir);
      assert.deepEqual(
        listed.map((s) => s.state),
        ['unindexed', 'unindexed', compression === 'gzip' ? 'compressed' : 'closed'],
      );
      assert.deepEqual(seqs(await readAll(dir)), range(0, 150));
      assert.deepEqual(seqs(await readAll(dir, { order: 'storage' })), range(0, 150));
      const report = await verifyStore(dir);
      assert.equal(report.records, 150);
      const files = report.problems.map((p) => p.problem);
      assert.equal(files.length, 2, JSON.stringify(report.problems));
      assert.match(files[0], new RegExp(`${first.name}\\.idx: index is not valid JSON`));
      assert.match(files[1], new RegExp(`${second.name}\\.idx: index is missing`));
    });
  });

  test(`store - a writer rebuilds lost and damaged indexes (${compression}) on open`, async () => {
    await withStore({}, async (dir) => {
      await threeSegments(dir, compression);
      const before = await listSegments(dir);
      await fsp.rm(join(dir, `${before[1].name}.idx`));
      await fsp.writeFile(join(dir, `${before[0].name}.idx`), 'garbage');
      const w = await openStoreWriter(dir, { ...FAST, compression });
      await w.append(records(150, 5));
      await w.close();
      const after = await listSegments(dir);
      assert.equal(after.length, 4);
      for (let i = 0; i < 3; i++) {
        assert.equal(after[i].state, before[i].state);
        assert.equal(after[i].path, before[i].path);
        assert.deepEqual(
          { ...after[i].index, closedAt: 0, createdAt: 0 },
          { ...before[i].index, closedAt: 0, createdAt: 0 },
        );
      }
      assert.deepEqual((await verifyStore(dir)).problems, []);
      assert.deepEqual(seqs(await readAll(dir)), range(0, 155));
    });
  });
}

test('store - after a failed write close() succeeds and every durable batch stays readable', async () => {
  await withStore({}, async (dir) => {
    const w = await openStoreWriter(dir, { ...FAST, compression: 'none', fsync: 'always' });
    await w.append(records(0, 20));
    // The disk fills up in the middle of the next write: half a block lands, then ENOSPC.
    const fh = (w as unknown as { seg: { fh: import('node:fs/promises').FileHandle } }).seg.fh;
    const failingWritev = async (buffers: readonly Buffer[], position?: number) => {
      await fh.write(buffers[0], 0, 10, position ?? null);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
      });
    };
    fh.writev = failingWritev as typeof fh.writev;
    await assert.rejects(w.append(records(20, 20)), (err: Error) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /store writer stopped after a failed write \(ENOSPC: no space/);
      assert.ok(err.message.startsWith(dir));
      return true;
    });
    await w.close();
    assert.deepEqual((await verifyStore(dir)).problems, []);
    assert.deepEqual(seqs(await readAll(dir)), range(0, 20));
    // The lock is released: the store opens again.
    const again = await openStoreWriter(dir, { ...FAST, compression: 'none' });
    await again.close();
  });
});

test('store - a compressed segment that cannot be re-indexed does not block appends', async () => {
  await withStore({}, async (dir) => {
    await threeSegments(dir, 'gzip');
    const [first] = await listSegments(dir);
    await fsp.rm(join(dir, `${first.name}.idx`));
    const bytes = await fsp.readFile(first.path);
    bytes.write('NOTOURS!', 0, 'latin1');
    await fsp.writeFile(first.path, bytes);
    const w = await openStoreWriter(dir, { ...FAST, compression: 'gzip' });
    await w.append(records(150, 5));
    await w.close();
    assert.equal((await listSegments(dir))[0].state, 'unindexed');
    const report = await verifyStore(dir);
    assert.ok(report.problems.length > 0);
    assert.ok(report.problems.every((p) => p.file === first.path));
    // Its blocks still check out, so readers still return its records.
    assert.deepEqual(seqs(await readAll(dir)), range(0, 155));
  });
});
