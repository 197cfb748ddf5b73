// The `sluice generate` command end to end: byte-identical reruns, the asked rate against the
// wall clock with a clean SIGINT stop, and rotation by rename and by copytruncate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir } from '../helpers.js';

const FIXED = ['--rate', '0', '--start-time', '2026-03-01T08:00:00Z'];

test('generate - same seed and start time give the same bytes', async () => {
  const args = ['generate', '-f', 'syslog_rfc5424', '-s', 'healthcare', '-n', '20000', ...FIXED];
  const a = await runCli([...args, '--seed', '42']);
  const b = await runCli([...args, '--seed', '42']);
  const c = await runCli([...args, '--seed', '43']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout.split('\n').length, 20001);
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, c.stdout);
  assert.match(a.stderr, /20000 lines/);
});

test('generate - holds the asked rate against the wall clock and stops cleanly on SIGINT', async () => {
  const child = spawnCli(['generate', '-f', 'json', '--rate', '1000']);
  const samples: Array<[number, number]> = [];
  let lines = 0;
  let stderr = '';
  const t0 = performance.now();
  child.stdout!.on('data', (b: Buffer) => {
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
    samples.push([performance.now() - t0, lines]);
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise((r) => setTimeout(r, 10_500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 0, stderr);
  const at = (ms: number) => samples.filter(([t]) => t <= ms).at(-1)?.[1] ?? 0;
  // Startup takes a moment; measure the window from 2 s to 10 s (8,000 lines asked).
  const windowLines = at(10_000) - at(2_000);
  assert.ok(windowLines > 8000 * 0.9 && windowLines < 8000 * 1.1, `got ${windowLines} in 8 s`);
  const summary = /sluice generate: (\d+) lines, \d+ bytes in [\d.]+ s \(([\d.]+) lines\/s/.exec(
    stderr,
  );
  assert.ok(summary, `one-line summary on stderr: ${stderr}`);
  assert.equal(Number(summary[1]), lines, 'every line counted was written');
});

for (const mode of ['rename', 'copytruncate']) {
  test(`generate - --out rotates by size (${mode}) and loses no line`, async () => {
    const dir = tempDir();
    try {
      const out = join(dir.path, 'app.log');
      const args = ['generate', '-f', 'apache_combined', '-n', '5000', '--seed', '9', ...FIXED];
      const whole = await runCli(args);
      const res = await runCli([
        ...args,
        '--out',
        out,
        '--rotate-size',
        '100KB',
        '--rotate-keep',
        '50',
        '--rotate-mode',
        mode,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const files: string[] = [];
      for (let i = 50; i >= 1; i--) if (existsSync(`${out}.${i}`)) files.push(`${out}.${i}`);
      files.push(out);
      assert.ok(files.length >= 5, `rotated into ${files.length} files`);
      for (const f of files) assert.ok(statSync(f).size <= 100_000, `${f} within the size`);
      const joined = files.map((f) => readFileSync(f, 'utf8')).join('');
      assert.equal(joined, whole.stdout);
    } finally {
      dir.cleanup();
    }
  });
}

test('generate - --rotate-keep bounds the rotated files', async () => {
  const dir = tempDir();
  try {
    const out = join(dir.path, 'app.log');
    const res = await runCli([
      'generate',
      '-n',
      '5000',
      ...FIXED,
      '--out',
      out,
      '--rotate-size',
      '50KB',
      '--rotate-keep',
      '2',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(existsSync(`${out}.1`) && existsSync(`${out}.2`));
    assert.ok(!existsSync(`${out}.3`));
  } finally {
    dir.cleanup();
  }
});

test('generate - bad flags exit 2 naming the flag', async () => {
  const res = await runCli(['generate', '--format', 'xml', '-n', '1']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--format/);
});
