// The behaviour cases about files (test/fixtures/cases 13, 14, 16 and 17), run against the
// real `sluice capture` command and real files, following their steps.md and expected.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fixture, tempDir } from '../helpers.js';
import { sleep, startCapture } from './util.js';

const checkpoint = (stateDir: string) =>
  JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')) as {
    files: Array<{ path: string; offset: number; ino: number }>;
  };

test('case 13 - a last line without newline is emitted after the timeout, not before', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'input.log');
  copyFileSync(fixture('cases', '13-last-line-without-newline', 'input.log'), path);
  const state = join(dir.path, 'state');
  const run = await startCapture([
    '--path',
    path,
    '--start-at',
    'beginning',
    '--state',
    state,
    '--partial-flush',
    '1500ms',
    '--batch-wait',
    '100ms',
  ]);
  try {
    await run.waitRecords(2);
    await sleep(500);
    assert.equal(run.records.length, 2, 'the partial line must wait for the timeout');
    await run.waitRecords(3, 5000);
    const third = run.records[2];
    assert.equal(third.level, 'error');
    assert.equal(third.message, 'job 3 failed');
    assert.equal(third.timestamp, '2023-08-22T10:00:02.000Z');
    await sleep(300);
    assert.equal(await run.stop(), 0);
    assert.equal(run.records.length, 3);
    assert.equal(checkpoint(state).files[0].offset, statSync(path).size);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

test('case 13 - bytes appended before the timeout join the same line (variant B)', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'input.log');
  copyFileSync(fixture('cases', '13-last-line-without-newline', 'input.log'), path);
  const run = await startCapture([
    '--path',
    path,
    '--start-at',
    'beginning',
    '--partial-flush',
    '2s',
    '--batch-wait',
    '100ms',
  ]);
  try {
    await run.waitRecords(2);
    appendFileSync(path, ' (retried)\n');
    await run.waitRecords(3, 5000);
    await sleep(2500);
    assert.equal(run.records.length, 3);
    const third = run.records[2];
    const text = String(third.raw ?? third.message);
    assert.equal(
      text,
      '{"time":"2023-08-22T10:00:02.000Z","level":"error","msg":"job 3 failed"} (retried)',
    );
    assert.equal(await run.stop(), 0);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

test('case 13 - a graceful stop emits the pending partial line once (variant C)', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'input.log');
  copyFileSync(fixture('cases', '13-last-line-without-newline', 'input.log'), path);
  const state = join(dir.path, 'state');
  const args = [
    '--path',
    path,
    '--start-at',
    'beginning',
    '--state',
    state,
    '--partial-flush',
    '30s',
    '--batch-wait',
    '100ms',
  ];
  const run = await startCapture(args);
  try {
    await run.waitRecords(2);
    assert.equal(await run.stop(), 0);
    assert.deepEqual(
      run.records.map((r) => r.message),
      ['job 1 done', 'job 2 done', 'job 3 failed'],
    );
    const again = await startCapture(args);
    await sleep(800);
    assert.equal(await again.stop(), 0);
    assert.equal(again.records.length, 0, 'nothing is emitted twice after the restart');
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

const seqLines = (from: number, to: number) => {
  let s = '';
  for (let i = from; i <= to; i++) s += `seq=${i} msg=payload-${i}\n`;
  return s;
};

test('case 14 - copytruncate: every seq once, across a restart and fast regrowth', async () => {
  const dir = tempDir();
  const logs = join(dir.path, 'logs');
  mkdirSync(logs);
  const app = join(logs, 'app.log');
  writeFileSync(app, '');
  const state = join(dir.path, 'state');
  const args = [
    '--path',
    `${app}*`,
    '--start-at',
    'beginning',
    '--state',
    state,
    '--batch-wait',
    '100ms',
    '--format',
    'logfmt',
  ];
  const seen: string[] = [];
  let run = await startCapture(args);
  try {
    appendFileSync(app, seqLines(1, 100));
    await run.waitRecords(100);
    await sleep(300);
    copyFileSync(app, `${app}.1`);
    truncateSync(app, 0);
    appendFileSync(app, seqLines(101, 110));
    await run.waitRecords(110);
    await sleep(300);
    assert.equal(await run.stop(), 0);
    seen.push(...run.records.map((r) => String((r.fields as Record<string, unknown>).seq)));

    run = await startCapture(args);
    appendFileSync(app, seqLines(111, 120));
    await run.waitRecords(10);
    renameSync(`${app}.1`, `${app}.2`);
    copyFileSync(app, `${app}.1`);
    truncateSync(app, 0);
    appendFileSync(app, seqLines(121, 400));
    await run.waitRecords(290);
    await sleep(1500);
    assert.equal(await run.stop(), 0);
    seen.push(...run.records.map((r) => String((r.fields as Record<string, unknown>).seq)));
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (let i = 1; i <= 400; i++) assert.equal(counts.get(String(i)), 1, `seq=${i}`);
    assert.equal(seen.length, 400);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

/**
 * Puts `content` at `path` on the inode `ino`: by making files until the file system hands
 * that inode out again, or, where it does not soon (ext4 and tmpfs often do not), by
 * rewriting the checkpoint entry to the new file's inode, which is the state inode reuse
 * leaves behind (steps.md allows injecting the stat result).
 */
function reuseInode(dir: string, path: string, ino: number, content: string, state: string) {
  for (let i = 0; i < 200; i++) {
    const probe = join(dir, `probe-${i}.tmp`);
    writeFileSync(probe, content);
    if (statSync(probe).ino === ino) {
      renameSync(probe, path);
      return;
    }
    unlinkSync(probe);
  }
  writeFileSync(path, content);
  const file = join(state, 'checkpoints.json');
  const cp = JSON.parse(readFileSync(file, 'utf8'));
  for (const entry of cp.files) if (entry.ino === ino) entry.ino = statSync(path).ino;
  writeFileSync(file, JSON.stringify(cp));
}

const padded = (prefix: string, n: number) => {
  let s = '';
  for (let i = 1; i <= n; i++) s += `${prefix}-${i}`.padEnd(19, ' ') + '\n';
  return s;
};

for (const lines of [30, 150]) {
  const variant = lines > 100 ? ' (variant: the new file is larger than the old offset)' : '';
  test(`case 16 - a reused inode is not mistaken for the old file${variant}`, async () => {
    const dir = tempDir();
    const logs = join(dir.path, 'logs');
    mkdirSync(logs);
    const state = join(dir.path, 'state');
    const args = [
      '--path',
      join(logs, '*.log'),
      '--start-at',
      'beginning',
      '--state',
      state,
      '--batch-wait',
      '100ms',
      '--format',
      'text',
    ];
    const a = join(logs, 'a.log');
    writeFileSync(a, padded('a', 100));
    let run = await startCapture(args);
    try {
      await run.waitRecords(100);
      await sleep(300);
      assert.equal(await run.stop(), 0);
      const saved = checkpoint(state).files;
      assert.equal(saved[0].offset, 2000);
      unlinkSync(a);
      reuseInode(dir.path, join(logs, 'b.log'), saved[0].ino, padded('b', lines), state);
      run = await startCapture(args);
      await run.waitRecords(lines);
      await sleep(500);
      assert.equal(await run.stop(), 0);
      const want = padded('b', lines)
        .split('\n')
        .slice(0, lines)
        .map((l) => l.trim());
      assert.deepEqual(
        run.records.map((r) => String(r.message).trim()),
        want,
      );
      assert.ok(!checkpoint(state).files.some((f) => f.path === a), 'stale entry for a.log');
    } finally {
      if (run.child.exitCode === null) await run.kill();
      dir.cleanup();
    }
  });
}

test('case 17 - an overlong line is truncated once and the file keeps being followed', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'input.log');
  const long = '2024-05-01T10:00:01Z INFO ' + 'A'.repeat(2_000_000);
  writeFileSync(
    path,
    `2024-05-01T10:00:00Z INFO before\n${long}\n2024-05-01T10:00:02Z INFO after\n`,
  );
  const run = await startCapture([
    '--path',
    path,
    '--start-at',
    'beginning',
    '--max-line-bytes',
    '1MiB',
    '--batch-wait',
    '100ms',
    '--format',
    'text',
  ]);
  try {
    await run.waitRecords(3);
    appendFileSync(path, '2024-05-01T10:00:03Z INFO appended later\n');
    await run.waitRecords(4);
    await sleep(300);
    assert.equal(await run.stop(), 0);
    const msgs = run.records.map((r) => String(r.message));
    assert.equal(run.records.length, 4);
    assert.match(msgs[0], /before$/);
    assert.match(msgs[2], /after$/);
    assert.match(msgs[3], /appended later$/);
    const cut = run.records[1];
    const fields = cut.fields as Record<string, unknown>;
    assert.equal(fields.truncated, true);
    assert.equal(fields.line_bytes, 2_000_026);
    assert.ok(msgs[1].length <= 1024 * 1024 && msgs[1].length > 1000);
    assert.match(run.stderr(), /lines_truncated=1/);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});
