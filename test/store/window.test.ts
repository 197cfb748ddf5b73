// Time windows over blocks in time order: the reader finds a window's edges inside such a block
// by binary search; these tests compare it with filtering a full read line by line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { openStoreReader, openStoreWriter } from '../../src/store/index.js';
import type { LogRecord } from '../../src/record/record.js';

const BASE = Date.parse('2026-03-01T00:00:00.000Z');

/** Records in time order, several per millisecond, with awkward text of varying length. */
function records(n: number): LogRecord[] {
  const words = [
    'plain',
    'quote " and \\ slash',
    'tab\there',
    'naïve café ☕',
    '日本語',
    'x'.repeat(900),
  ];
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(BASE + Math.floor(i / 3) * 7).toISOString(),
    level: 'info',
    severity: 9,
    message: `${words[(i * 7) % words.length]} #${i}`,
    format: 'json',
    fields: { seq: i },
  }));
}

async function raw(dir: string, opts: { since?: number; until?: number } = {}): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of openStoreReader(dir, opts).raw()) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

function lineTime(line: string): number {
  return Date.parse(line.slice('{"timestamp":"'.length, '{"timestamp":"'.length + 24));
}

test('store - a window inside blocks in time order is cut exactly at its bounds', async () => {
  const tmp = tempDir('sluice-store-window-');
  try {
    const dir = join(tmp.path, 'store');
    const w = await openStoreWriter(dir, { compression: 'none', fsync: 'never' });
    const all = records(6000);
    // Blocks of different sizes: one record, a few, and large ones of several hundred KiB.
    const sizes = [1, 5, 2000, 1, 700, 3293];
    let at = 0;
    for (const n of sizes) {
      await w.append(all.slice(at, at + n));
      at += n;
    }
    await w.close();
    const full = (await raw(dir)).split('\n').filter((l) => l.length > 0);
    assert.equal(full.length, all.length);
    const first = lineTime(full[0]);
    const last = lineTime(full[full.length - 1]);
    // Bounds on record times (several records share them), between them, and outside.
    const bounds = [first - 1, first, first + 3, first + 7, first + 700, first + 4669, last - 7];
    bounds.push(last, last + 1, first + 13_999, first + 2345, first + 6998);
    for (const since of bounds) {
      for (const until of bounds) {
        if (since > until) continue;
        const want = full.filter((l) => lineTime(l) >= since && lineTime(l) <= until);
        const got = await raw(dir, { since, until });
        const text = want.length === 0 ? '' : want.join('\n') + '\n';
        assert.equal(got, text, `window ${since - first}..${until - first}`);
      }
    }
  } finally {
    tmp.cleanup();
  }
});
