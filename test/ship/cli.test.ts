// The real `sluice ship` process against an in-process collector on a real socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { startFakeCollector, until, type FakeCollector } from './harness.js';

function lines(from: number, to: number): string {
  let s = '';
  for (let n = from; n < to; n++)
    s += `{"level":"info","msg":"GET /item/${n % 500} 200","n":${n}}\n`;
  return s;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Missing and repeated record numbers in [0, total). */
function audit(c: FakeCollector, total: number) {
  let missing = 0;
  let repeats = 0;
  for (let n = 0; n < total; n++) {
    const k = c.tally?.get(n) ?? 0;
    if (k === 0) missing++;
    if (k > 1) repeats += k - 1;
  }
  return { missing, repeats };
}

test('ship cli - standard input is shipped and the status line is printed', async () => {
  const collector = await startFakeCollector();
  collector.tally = new Map();
  try {
    const result = await runCli(
      ['ship', '-', '--to', `tcp://127.0.0.1:${collector.port}`, '--compress', 'deflate'],
      { input: lines(0, 5000), env: { SLUICE_LOG_LEVEL: 'warn' } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(audit(collector, 5000), { missing: 0, repeats: 0 });
    assert.match(result.stderr, /sluice ship: connected \| records sent 5000 acked 5000/);
  } finally {
    await collector.close();
  }
});

test('ship cli - bad options are refused with exit 2 naming the option', async () => {
  const bad = await runCli(['ship', '-', '--to', 'udp://x:1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--to: "udp:\/\/x:1" is not a collector address/);
  const level = await runCli(['ship', '-', '--to', 'tcp://127.0.0.1:1', '--level', '12']);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /--level: "12"/);
});

test(
  'ship cli - a file being written, shipper killed with SIGKILL 3 times, restarted with its ' +
    'spool: nothing lost or repeated',
  async () => {
    const dir = tempDir();
    const collector = await startFakeCollector();
    collector.tally = new Map();
    const total = 120_000;
    const file = join(dir.path, 'app.log');
    writeFileSync(file, '');
    const args = [
      'ship',
      file,
      '--to',
      `tcp://127.0.0.1:${collector.port}`,
      '--spool',
      join(dir.path, 'spool'),
      '--batch-size',
      '500',
      '--status-interval',
      '0',
      '--backoff-initial',
      '50ms',
    ];
    const env = { SLUICE_LOG_LEVEL: 'warn' };
    let written = 0;
    const writer = setInterval(() => {
      const to = Math.min(total, written + 4000);
      appendFileSync(file, lines(written, to));
      written = to;
    }, 20);
    try {
      for (let kill = 0; kill < 3; kill++) {
        const child = spawnCli(args, { env });
        const target = (kill + 1) * 25_000;
        await until(() => (collector.tally?.size ?? 0) >= target, 30_000);
        child.kill('SIGKILL');
        await exited(child);
      }
      const last = spawnCli([...args, '--once'], { env });
      await until(() => written === total, 30_000);
      const code = await exited(last);
      assert.equal(code, 0);
      const { missing, repeats } = audit(collector, total);
      assert.equal(missing, 0);
      // Resent spool entries are suppressed by batch id; lines the spool held when the tailer's
      // checkpoint lagged are not read again (the spool's positions move the checkpoint on).
      assert.equal(repeats, 0);
    } finally {
      clearInterval(writer);
      await collector.close();
      dir.cleanup();
    }
  },
);

test(
  'ship cli - a 30 s outage while the file grows: the spool grows, health says 503, ' +
    'then everything drains',
  async () => {
    const dir = tempDir();
    let collector = await startFakeCollector();
    const port = collector.port;
    const tally = new Map<number, number>();
    collector.tally = tally;
    const file = join(dir.path, 'app.log');
    writeFileSync(file, lines(0, 2000));
    const child = spawnCli(
      [
        'ship',
        file,
        '--to',
        `tcp://127.0.0.1:${port}`,
        '--spool',
        join(dir.path, 'spool'),
        '--health',
        '127.0.0.1:0',
        '--batch-size',
        '200',
        '--batch-wait',
        '100ms',
        '--backoff-max',
        '1s',
        '--status-interval',
        '0',
      ],
      { env: { SLUICE_LOG_LEVEL: 'info' } },
    );
    try {
      const m = await waitForLine(child, /"port":(\d+).*Health and metrics endpoint/);
      const health = `http://127.0.0.1:${m[1]}/healthz`;
      await until(() => tally.size === 2000, 20_000);
      assert.equal((await fetch(health)).status, 200);
      await collector.close();
      // The outage, as the issue sets it: 30 s with the collector down while the file keeps
      // growing (1,000 lines every 5 s); the spool is looked at twice to see it grow.
      const spoolAt: number[] = [];
      for (let step = 0; step < 6; step++) {
        appendFileSync(file, lines(2000 + step * 1000, 3000 + step * 1000));
        await sleep(5_000);
        if (step === 1 || step === 5) {
          const down = await fetch(health);
          const body = (await down.json()) as { spool_batches: number; connected: boolean };
          assert.equal(down.status, 503);
          assert.equal(body.connected, false);
          spoolAt.push(body.spool_batches);
        }
      }
      assert.ok(spoolAt[0] >= 10 && spoolAt[1] >= spoolAt[0] + 15, `spool ${spoolAt.join(' -> ')}`);
      collector = await startFakeCollector(port);
      collector.tally = tally;
      await until(() => tally.size === 8000, 30_000);
      const acked = async () => {
        const text = await (await fetch(`http://127.0.0.1:${m[1]}/metrics`)).text();
        return { text, n: Number(/sluice_ship_records_acked_total (\d+)/.exec(text)?.[1]) };
      };
      let metrics = await acked();
      for (let i = 0; i < 50 && metrics.n < 8000; i++) {
        await new Promise((r) => setTimeout(r, 100));
        metrics = await acked();
      }
      assert.equal(metrics.n, 8000);
      assert.match(metrics.text, /sluice_ship_rtt_seconds_bucket/);
      assert.deepEqual(audit(collector, 8000), { missing: 0, repeats: 0 });
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      await collector.close();
      dir.cleanup();
    }
  },
);
