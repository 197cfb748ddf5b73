// `sluice store` through the real CLI: append from stdin, ls/stats/cat as JSON, verify's exit
// status on a corrupted segment, the lock error naming the holder, and purge --dry-run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir } from '../helpers.js';
import { openStoreWriter } from '../../src/store/index.js';

const NDJSON = Array.from(
  { length: 50 },
  (_, i) =>
    JSON.stringify({
      timestamp: new Date(Date.parse('2026-03-01T10:00:00Z') + i * 60_000).toISOString(),
      level: i % 5 === 0 ? 'error' : 'info',
      severity: i % 5 === 0 ? 17 : 9,
      message: `event ${i}`,
      service: 'api',
      format: 'json',
    }) + '\n',
).join('');
const RAW =
  '127.0.0.1 - - [01/Mar/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 12\n' +
  '127.0.0.1 - - [01/Mar/2026:10:00:01 +0000] "GET /b HTTP/1.1" 404 0\n';

test('store cli - append prints the count; ls, stats and cat agree', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    const r = await runCli(['store', 'append', '--dir', dir], { input: NDJSON + RAW });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stored 52 records/);
    const ls = await runCli(['store', 'ls', '--dir', dir, '--output', 'json']);
    const rows = JSON.parse(ls.stdout) as Array<{ records: number; state: string }>;
    assert.deepEqual(
      rows.map((x) => [x.records, x.state]),
      [[52, 'compressed']],
    );
    const stats = JSON.parse(
      (await runCli(['store', 'stats', '--dir', dir, '--output', 'json'])).stdout,
    );
    assert.equal(stats.records, 52);
    assert.equal(stats.levels.error, 10);
    assert.equal(stats.levels.warn, 1);
    const cat = await runCli([
      'store',
      'cat',
      '--dir',
      dir,
      '--since',
      '2026-03-01T10:10:00Z',
      '--until',
      '2026-03-01T10:19:59Z',
    ]);
    const lines = cat.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).message);
    assert.deepEqual(
      lines,
      Array.from({ length: 10 }, (_, i) => `event ${i + 10}`),
    );
    const table = await runCli(['store', 'ls', '--dir', dir]);
    assert.match(table.stdout, /segment\s+first\s+last\s+records/);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - verify exits 1 naming the corrupted segment and offset', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    await runCli(['store', 'append', '--dir', dir, '--compression', 'none'], { input: NDJSON });
    assert.equal((await runCli(['store', 'verify', '--dir', dir])).code, 0);
    const seg = join(dir, '000000000001.seg');
    const bytes = await fsp.readFile(seg);
    bytes[bytes.length - 30] ^= 0x01;
    await fsp.writeFile(seg, bytes);
    const r = await runCli(['store', 'verify', '--dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /000000000001\.seg at offset \d+: block checksum mismatch/);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - a lost index fails verify and ls shows the segment unindexed', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    await runCli(['store', 'append', '--dir', dir], { input: NDJSON });
    await fsp.rm(join(dir, '000000000001.idx'));
    const r = await runCli(['store', 'verify', '--dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /000000000001\.idx: index is missing/);
    const ls = JSON.parse((await runCli(['store', 'ls', '--dir', dir, '--output', 'json'])).stdout);
    assert.deepEqual(
      ls.map((s: { state: string }) => s.state),
      ['unindexed'],
    );
    const cat = await runCli(['store', 'cat', '--dir', dir]);
    assert.equal(cat.stdout.trim().split('\n').length, NDJSON.trim().split('\n').length);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - a second writer is refused naming the process that holds the lock', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    const w = await openStoreWriter(dir);
    const r = await runCli(['store', 'append', '--dir', dir], { input: NDJSON });
    await w.close();
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`locked by process ${process.pid}`));
    const purge = await runCli(['store', 'purge', '--dir', dir, '--retain-segments', '0']);
    assert.equal(purge.code, 0, purge.stderr);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - purge --dry-run lists what would go and removes nothing', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    for (let i = 0; i < 3; i++) {
      await runCli(['store', 'append', '--dir', dir], { input: NDJSON });
    }
    const dry = await runCli([
      'store',
      'purge',
      '--dir',
      dir,
      '--retain-segments',
      '1',
      '--dry-run',
    ]);
    assert.match(dry.stdout, /would remove 2 segments/);
    assert.equal((await fsp.readdir(dir)).filter((n) => n.endsWith('.sgz')).length, 3);
    const bad = await runCli(['store', 'purge', '--dir', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--retain-age, --retain-size or --retain-segments/);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - cat prints two overlapping imports in time order', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 's');
    const line = (i: number) =>
      JSON.stringify({
        timestamp: new Date(Date.parse('2026-03-01T10:00:00Z') + i * 1000).toISOString(),
        level: 'info',
        severity: 9,
        message: `event ${i}`,
        format: 'json',
      }) + '\n';
    const evens = Array.from({ length: 20 }, (_, i) => line(2 * i)).join('');
    const odds = Array.from({ length: 20 }, (_, i) => line(2 * i + 1)).join('');
    for (const input of [evens, odds]) {
      const r = await runCli(['store', 'append', '--dir', dir], { input });
      assert.equal(r.code, 0, r.stderr);
    }
    const messages = async (args: string[]) =>
      (await runCli(['store', 'cat', '--dir', dir, ...args])).stdout
        .trim()
        .split('\n')
        .map((l) => Number((JSON.parse(l) as { message: string }).message.slice(6)));
    assert.deepEqual(
      await messages([]),
      Array.from({ length: 40 }, (_, i) => i),
    );
    const stored = await messages(['--order', 'storage']);
    assert.deepEqual(stored.slice(0, 3), [0, 2, 4]);
  } finally {
    tmp.cleanup();
  }
});

test('store cli - a full disk ends append with one line and exit 2, durable records kept', async (t) => {
  const tmp = tempDir();
  const mnt = join(tmp.path, 'tiny');
  await fsp.mkdir(mnt);
  // Needs a 1 MiB tmpfs: root with CAP_SYS_ADMIN; elsewhere the library test covers close().
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1M', 'tmpfs', mnt]);
  if (mount.status !== 0) {
    tmp.cleanup();
    t.skip('cannot mount a 1 MiB tmpfs here (needs root)');
    return;
  }
  try {
    const line = (i: number) =>
      JSON.stringify({
        timestamp: new Date(Date.parse('2026-03-01T10:00:00Z') + i).toISOString(),
        level: 'info',
        message: `event ${i} ${'x'.repeat(200)}`,
      }) + '\n';
    const input = join(tmp.path, 'in.ndjson');
    await fsp.writeFile(input, Array.from({ length: 1500 }, (_, i) => line(i)).join(''));
    const dir = join(mnt, 'st');
    const r = await runCli([
      'store',
      'append',
      '--dir',
      dir,
      '--compression',
      'none',
      '--batch-records',
      '100',
      input,
      input,
      input,
      input,
    ]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('sluice'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^sluice store append: ${dir}: .*no space left on device`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal((await runCli(['store', 'verify', '--dir', dir])).code, 0);
    const cat = await runCli(['store', 'cat', '--dir', dir]);
    assert.ok(
      cat.stdout.split('\n').length > 1500,
      'the first file was stored before the disk filled',
    );
  } finally {
    spawnSync('umount', [mnt]);
    tmp.cleanup();
  }
});
