// `sluice capture` options end to end: filters, tags and rules files, bad patterns refused at
// start, batch files, metrics on SIGUSR1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';
import { readBatchFiles, sleep, startCapture, waitUntil } from './util.js';

test('capture - include, exclude, tags and a rules file shape the records', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'app.log');
  const rules = join(dir.path, 'rules.yaml');
  writeFileSync(
    rules,
    [
      'rules:',
      "  - match: 'user=(?<user>\\w+)'",
      '    tags: [auth]',
      '    fields: { team: identity }',
      "  - match: 'timeout'",
      '    tags: [slow]',
    ].join('\n'),
  );
  writeFileSync(path, '');
  const run = await startCapture([
    '--path',
    path,
    '--format',
    'text',
    '--batch-wait',
    '100ms',
    '--include',
    'level=',
    '--exclude',
    'healthcheck',
    '--tag',
    'error=level=error',
    '--rules',
    rules,
  ]);
  try {
    appendFileSync(
      path,
      [
        'level=info login ok user=ana',
        'no level here',
        'level=info GET /healthcheck',
        'level=error upstream timeout user=bob',
        '',
      ].join('\n'),
    );
    await run.waitRecords(2);
    await sleep(300);
    run.child.kill('SIGUSR1');
    await waitUntil(() => /lines_filtered=2/.test(run.stderr()), 'metrics on SIGUSR1');
    assert.equal(await run.stop(), 0);
    assert.equal(run.records.length, 2);
    const [first, second] = run.records as Array<{
      tags?: string[];
      fields?: Record<string, unknown>;
    }>;
    assert.deepEqual(first.tags, ['auth']);
    assert.deepEqual(
      { user: first.fields?.user, team: first.fields?.team },
      { user: 'ana', team: 'identity' },
    );
    assert.deepEqual(second.tags?.sort(), ['auth', 'error', 'slow']);
    assert.equal(second.fields?.user, 'bob');
    assert.match(run.stderr(), /lines_read=4 lines_filtered=2 records_emitted=2/);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

test('capture - a bad regular expression stops the command at start, naming it', async () => {
  const dir = tempDir();
  try {
    for (const [flag, value, shown] of [
      ['--include', 'a(b', '--include: "a(b"'],
      ['--tag', 'x=[z', '--tag x: "[z"'],
      ['--multiline-start', '(', '--multiline-start: "("'],
    ]) {
      const r = await runCli(['capture', '--path', join(dir.path, '*.log'), flag, value]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(shown), r.stderr);
    }
    const rules = join(dir.path, 'rules.yaml');
    writeFileSync(rules, 'rules:\n  - match: 42\n');
    const r = await runCli(['capture', '--path', join(dir.path, '*.log'), '--rules', rules]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rules\.yaml: rules\.0\.match/);
  } finally {
    dir.cleanup();
  }
});

test('capture - --out DIR writes whole NDJSON batch files at --batch-size', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'app.log');
  const out = join(dir.path, 'out');
  writeFileSync(path, '');
  const run = await startCapture([
    '--path',
    path,
    '--format',
    'text',
    '--out',
    out,
    '--batch-size',
    '10',
    '--batch-wait',
    '30s',
  ]);
  try {
    let text = '';
    for (let i = 1; i <= 25; i++) text += `line ${i}\n`;
    appendFileSync(path, text);
    await waitUntil(() => readBatchFiles(out).files.length >= 2, 'two full batch files');
    await sleep(300);
    const { files, lines } = readBatchFiles(out);
    assert.equal(files.length, 2, 'the last 5 records wait for --batch-wait');
    assert.equal(lines.length, 20);
    assert.equal(await run.stop(), 0);
    assert.equal(readBatchFiles(out).lines.length, 25, 'the rest is written at exit');
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

test('capture - a Java trace is one record; a deleted, re-created file is read anew', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'app.log');
  writeFileSync(path, '');
  const run = await startCapture([
    '--path',
    path,
    '--multiline-start',
    '^\\d{4}-',
    '--format',
    'text',
    '--batch-wait',
    '100ms',
    '--multiline-timeout',
    '300ms',
  ]);
  try {
    appendFileSync(
      path,
      [
        '2024-05-01 10:00:00,000 ERROR Request failed',
        'java.lang.IllegalStateException: boom',
        '\tat com.example.A.run(A.java:10)',
        '\tat com.example.B.call(B.java:20)',
        'Caused by: java.io.IOException: disk',
        '\t... 3 more',
        '2024-05-01 10:00:01,000 INFO next',
        '',
      ].join('\n'),
    );
    await run.waitRecords(2);
    assert.match(String(run.records[0].message), /Request failed[\s\S]*\.\.\. 3 more$/);
    assert.match(String(run.records[1].message), /INFO next$/);
    unlinkSync(path);
    await sleep(1200);
    writeFileSync(path, '2024-05-01 10:00:02,000 INFO again\n');
    await run.waitRecords(3);
    await sleep(300);
    assert.equal(await run.stop(), 0);
    assert.equal(run.records.length, 3);
    assert.match(String(run.records[2].message), /INFO again$/);
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});

test('capture - --store DIR appends the records into the store', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'app.log');
  const store = join(dir.path, 'store');
  writeFileSync(path, '');
  const run = await startCapture([
    '--path',
    path,
    '--store',
    store,
    '--format',
    'logfmt',
    '--state',
    join(dir.path, 'state'),
    '--batch-wait',
    '100ms',
  ]);
  try {
    appendFileSync(path, 'level=info n=1\nlevel=error n=2\n');
    // The store reports durability on its fsync interval (1 s by default).
    await sleep(2000);
    assert.equal(await run.stop(), 0);
    assert.match(run.stderr(), /records_emitted=2/);
    const q = await runCli(['query', '--store', store, '--output', 'json']);
    assert.equal(q.code, 0, q.stderr);
    const records = q.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.level, r.fields.n, r.source]),
      [
        ['info', 1, path],
        ['error', 2, path],
      ],
    );
  } finally {
    if (run.child.exitCode === null) await run.kill();
    dir.cleanup();
  }
});
