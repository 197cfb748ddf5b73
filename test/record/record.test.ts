import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEVELS, SEVERITY, formatTimestamp } from '../../src/record/record.js';
import { Acknowledgement } from '../../src/record/batch.js';
import { parseDurationMs, parseSizeBytes } from '../../src/util/units.js';

test('record - severity numbers follow SCHEMA.md and rise with the level', () => {
  const numbers = LEVELS.map((l) => SEVERITY[l]);
  assert.deepEqual(numbers, [1, 5, 9, 10, 13, 17, 21]);
});

test('record - timestamps are UTC with exactly three fractional digits', () => {
  assert.equal(formatTimestamp(Date.UTC(2026, 2, 1, 8, 15, 2, 120)), '2026-03-01T08:15:02.120Z');
});

test('batch - an acknowledgement settles once', async () => {
  const seen: string[] = [];
  const ack = new Acknowledgement((o) => seen.push(o.status));
  ack.delivered();
  ack.settle({ status: 'dropped', reason: 'late' });
  assert.deepEqual(seen, ['delivered']);
  assert.deepEqual(await ack.wait(), { status: 'delivered' });
});

test('units - durations and sizes parse, bad ones name the input', () => {
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('7d'), 7 * 86_400_000);
  assert.equal(parseSizeBytes('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseSizeBytes('10MB'), 10_000_000);
  assert.throws(() => parseSizeBytes('ten', '--segment-size'), /--segment-size: "ten"/);
});

test('version - the CLI version matches package.json', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { REPO_ROOT } = await import('../helpers.js');
  const { VERSION } = await import('../../src/version.js');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(VERSION, pkg.version);
});
