// `sluice ship` inputs that can never end (--once), gzip inputs, and what ship says on exit
// about batches it could not deliver, against a real CLI process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ChildProcess } from 'node:child_process';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { startFakeCollector } from './harness.js';

/** A port nothing listens on: bound once, then closed. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * Starts ship on standard input against a dead collector, stops it with SIGTERM; with
 * `keepOpen` standard input is not ended first (a pipe still being written).
 */
async function stdinStoppedBySigterm(args: string[], input: string, keepOpen = false) {
  const child: ChildProcess = spawnCli(
    ['ship', '-', '--batch-wait', '50ms', '--status-interval', '0', '--drain-timeout', '1s']
      .concat(['--backoff-initial', '50ms', '--backoff-max', '100ms'])
      .concat(args),
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  if (keepOpen) child.stdin?.write(input);
  else child.stdin?.end(input);
  await waitForLine(child, /Shipping\./);
  // Enough for the batch to be cut and several connects to fail.
  await new Promise((r) => setTimeout(r, 1_500));
  child.kill('SIGTERM');
  return { code: await exit, stderr };
}

function count(text: string, pattern: RegExp): number {
  return text.split('\n').filter((l) => pattern.test(l)).length;
}

test('ship cli - --once refuses a missing file, a folder and an empty glob, naming each', async () => {
  const dir = tempDir();
  try {
    const real = join(dir.path, 'real.log');
    writeFileSync(real, 'a line\n');
    mkdirSync(join(dir.path, 'folder'));
    const missing = join(dir.path, 'missing.log');
    const cases: Array<[string[], RegExp]> = [
      [[missing], /missing\.log: no such file/],
      [[real, missing], /missing\.log: no such file/],
      [[join(dir.path, 'folder')], /folder: is a directory/],
      [[join(dir.path, 'nomatch', '*.log')], /nomatch\/\*\.log: the glob matches no file/],
    ];
    for (const [inputs, message] of cases) {
      const r = await runCli(['ship', ...inputs, '--to', 'tcp://127.0.0.1:1', '--once'], {
        timeoutMs: 15_000,
      });
      assert.equal(r.code, 2, `${inputs.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  } finally {
    dir.cleanup();
  }
});

test('ship cli - --once reads a named .gz file to its end and exits', async () => {
  const dir = tempDir();
  const collector = await startFakeCollector();
  try {
    let text = '';
    for (let n = 0; n < 300; n++) text += `{"level":"info","msg":"gz line","n":${n}}\n`;
    const path = join(dir.path, 'app.log.gz');
    writeFileSync(path, gzipSync(text));
    // An archive is taken up once it has been quiet a while (it may still be being written).
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    const r = await runCli(['ship', path, '--to', `tcp://127.0.0.1:${collector.port}`, '--once'], {
      env: { SLUICE_LOG_LEVEL: 'warn' },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(collector.records.length, 300);
    assert.deepEqual(
      collector.records.map((rec) => Number(rec.fields?.n)).sort((a, b) => a - b),
      [...Array(300).keys()],
    );
  } finally {
    await collector.close();
    dir.cleanup();
  }
});

test('ship cli - stdin without a spool: exit says the lines are lost; reconnects are counted', async () => {
  const port = await deadPort();
  const r = await stdinStoppedBySigterm(['--to', `tcp://127.0.0.1:${port}`], 'one\ntwo\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(count(r.stderr, /Exiting with/), 1, r.stderr);
  assert.match(r.stderr, /standard input; their lines are lost \(use --spool/);
  assert.doesNotMatch(r.stderr, /read again/);
  const reconnects = /reconnects (\d+) retries/.exec(r.stderr);
  assert.ok(reconnects, r.stderr);
  assert.ok(Number(reconnects[1]) >= 2, `reconnects ${reconnects[1]}`);
});

test('ship cli - stdin with a spool: exit warns once, the next start sends the batches', async () => {
  const dir = tempDir();
  const spool = join(dir.path, 'spool');
  const collector = await startFakeCollector();
  try {
    const port = await deadPort();
    const input = 'first line\nsecond line\nthird line\n';
    const r = await stdinStoppedBySigterm(
      ['--to', `tcp://127.0.0.1:${port}`, '--spool', spool],
      input,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(count(r.stderr, /Exiting with batches in the spool/), 1, r.stderr);
    const next = await runCli(
      ['ship', '-', '--to', `tcp://127.0.0.1:${collector.port}`, '--spool', spool],
      { input: '', env: { SLUICE_LOG_LEVEL: 'warn' }, timeoutMs: 20_000 },
    );
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      collector.records.map((rec) => rec.message),
      ['first line', 'second line', 'third line'],
    );
  } finally {
    await collector.close();
    dir.cleanup();
  }
});

test('ship cli - SIGTERM while standard input is still open: no error, the lines are spooled', async () => {
  const dir = tempDir();
  const spool = join(dir.path, 'spool');
  const collector = await startFakeCollector();
  try {
    const port = await deadPort();
    const r = await stdinStoppedBySigterm(
      ['--to', `tcp://127.0.0.1:${port}`, '--spool', spool],
      'open one\nopen two\n',
      true,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Premature close/);
    assert.equal(count(r.stderr, /Exiting with batches in the spool/), 1, r.stderr);
    const next = await runCli(
      ['ship', '-', '--to', `tcp://127.0.0.1:${collector.port}`, '--spool', spool],
      { input: '', env: { SLUICE_LOG_LEVEL: 'warn' }, timeoutMs: 20_000 },
    );
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      collector.records.map((rec) => rec.message),
      ['open one', 'open two'],
    );
  } finally {
    await collector.close();
    dir.cleanup();
  }
});
