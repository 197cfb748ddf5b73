// The real thing: `sluice ship` processes shipping into a real `sluice serve` and its store,
// over TCP and mutual TLS, and through collector crashes (SIGKILL, restart on the same port
// and store). Every record is counted in the store afterwards: stored exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { openStoreReader } from '../../src/store/index.js';
import { until } from './harness.js';

const env = { SLUICE_LOG_LEVEL: 'info' };

function lines(from: number, to: number): string {
  let s = '';
  for (let n = from; n < to; n++) {
    s += `{"level":"info","msg":"GET /item/${n % 500} 200","n":${n}}\n`;
  }
  return s;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** A port that was free a moment ago (bound to 0, then closed), for restarts on one port. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startServe(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; output: string[] }> {
  const child = spawnCli(['serve', ...args, '--summary-interval', '0'], {
    env: { ...env, ...extraEnv },
  });
  const output: string[] = [];
  child.stderr?.on('data', (b: Buffer) => output.push(b.toString('utf8')));
  await waitForLine(child, /"transport":"tcp".*"msg":"Listening\."/);
  return { child, output };
}

/** How many times each record number in [0, total) is in the store, and the total count. */
async function tallyStore(dir: string, total: number) {
  const seen = new Uint8Array(total);
  let records = 0;
  for await (const chunk of openStoreReader(dir, { order: 'storage' }).raw()) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      records++;
      const n = (JSON.parse(line) as { fields?: { n?: number } }).fields?.n;
      if (typeof n === 'number' && n >= 0 && n < total) seen[n] = Math.min(255, seen[n] + 1);
    }
  }
  let missing = 0;
  let repeats = 0;
  for (const k of seen) {
    if (k === 0) missing++;
    if (k > 1) repeats += k - 1;
  }
  return { records, missing, repeats };
}

async function metric(healthPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('ship serve - real ship and serve over TCP and mutual TLS: every record stored once', async () => {
  const dir = tempDir();
  const certs = join(dir.path, 'certs');
  const store = join(dir.path, 'store');
  const perTransport = 20_000;
  const serveArgs = ['--tcp', '127.0.0.1:0', '--tls', '127.0.0.1:0', '--store', store];
  const tlsArgs = ['--cert', join(certs, 'server.pem'), '--key', join(certs, 'server-key.pem')];
  let serve: ChildProcess | undefined;
  try {
    const init = await runCli(['certs', 'init', '--dir', certs]);
    assert.equal(init.code, 0, init.stderr);
    serve = spawnCli(
      ['serve', ...serveArgs, ...tlsArgs, '--ca', join(certs, 'ca.pem'), '--require-client-cert'],
      { env },
    );
    const tcpLine = waitForLine(serve, /"transport":"tcp".*"port":(\d+)/);
    const tlsPort = Number((await waitForLine(serve, /"transport":"tls".*"port":(\d+)/))[1]);
    const tcpPort = Number((await tcpLine)[1]);
    writeFileSync(join(dir.path, 'tcp.log'), lines(0, perTransport));
    writeFileSync(join(dir.path, 'tls.log'), lines(perTransport, 2 * perTransport));
    const common = ['--once', '--status-interval', '0', '--batch-size', '500'];
    const [overTcp, overTls] = await Promise.all([
      runCli(
        [
          'ship',
          join(dir.path, 'tcp.log'),
          '--to',
          `tcp://127.0.0.1:${tcpPort}`,
          '--source-id',
          'tcp',
          ...common,
        ],
        { env, timeoutMs: 90_000 },
      ),
      runCli(
        [
          'ship',
          join(dir.path, 'tls.log'),
          '--to',
          `tls://127.0.0.1:${tlsPort}`,
          '--ca',
          join(certs, 'ca.pem'),
          '--cert',
          join(certs, 'client.pem'),
          '--key',
          join(certs, 'client-key.pem'),
          '--source-id',
          'tls',
          ...common,
        ],
        { env, timeoutMs: 90_000 },
      ),
    ]);
    assert.equal(overTcp.code, 0, overTcp.stderr);
    assert.equal(overTls.code, 0, overTls.stderr);
    assert.match(overTls.stderr, /records sent 20000 acked 20000/);
    serve.kill('SIGTERM');
    assert.equal(await exited(serve), 0);
    const tally = await tallyStore(store, 2 * perTransport);
    assert.deepEqual(tally, { records: 2 * perTransport, missing: 0, repeats: 0 });
  } finally {
    serve?.kill('SIGKILL');
    dir.cleanup();
  }
});

// The 1,000,000 records (about 20 s here); SHIP_CRASH_RECORDS sets another count.
const CRASH_RECORDS = Number(process.env.SHIP_CRASH_RECORDS ?? 1_000_000);

/** Ships CRASH_RECORDS from a file being written while the collector is SIGKILLed `kills` times. */
async function crashRun(kills: number): Promise<void> {
  const dir = tempDir();
  const store = join(dir.path, 'store');
  const file = join(dir.path, 'app.log');
  const total = CRASH_RECORDS;
  const port = await freePort();
  const serveArgs = ['--tcp', `127.0.0.1:${port}`, '--store', store];
  writeFileSync(file, '');
  let written = 0;
  const writer = setInterval(() => {
    const to = Math.min(total, written + 2_000);
    if (to > written) appendFileSync(file, lines(written, to));
    written = to;
  }, 10);
  // The first crash comes from inside the collector, right after a batch became durable and
  // before its ack: that batch is sure to be sent again, and must be stored once.
  const firstCrashBatch = Math.round(total / (kills + 1) / 1000);
  const crashEnv: Record<string, string> =
    kills > 0 ? { SLUICE_SERVE_CRASH_BEFORE_ACK: String(firstCrashBatch) } : {};
  let serve = await startServe(serveArgs, crashEnv);
  const ship = spawnCli(
    [
      'ship',
      file,
      '--to',
      `tcp://127.0.0.1:${port}`,
      '--spool',
      join(dir.path, 'spool'),
      '--health',
      '127.0.0.1:0',
      '--backoff-initial',
      '50ms',
      '--backoff-max',
      '500ms',
      '--status-interval',
      '0',
    ],
    { env },
  );
  try {
    const health = Number(
      (await waitForLine(ship, /"port":(\d+).*Health and metrics endpoint/))[1],
    );
    for (let kill = 1; kill <= kills; kill++) {
      // Kill while batches are in flight: after a further share of the records was acked.
      const target = (kill * total) / (kills + 1);
      const running = () => serve.child.exitCode === null && serve.child.signalCode === null;
      for (
        let i = 0;
        i < 600 && running() && (await metric(health, 'sluice_ship_records_acked_total')) < target;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // The first crash is the collector's own (its batch count comes before the target).
      if (kill === 1) assert.equal(serve.child.signalCode, 'SIGKILL', 'crashed before an ack');
      serve.child.kill('SIGKILL');
      await exited(serve.child);
      await new Promise((r) => setTimeout(r, 300));
      serve = await startServe(serveArgs);
    }
    await until(() => written === total, 60_000);
    let acked = 0;
    for (let i = 0; i < 1200 && acked < total; i++) {
      acked = await metric(health, 'sluice_ship_records_acked_total');
      if (acked < total) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(acked, total, 'records acknowledged');
    const duplicates = await metric(health, 'sluice_ship_duplicate_acks_total');
    const retries = await metric(health, 'sluice_ship_retries_total');
    ship.kill('SIGTERM');
    assert.equal(await exited(ship), 0);
    serve.child.kill('SIGTERM');
    assert.equal(await exited(serve.child), 0);
    const tally = await tallyStore(store, total);
    assert.deepEqual(tally, { records: total, missing: 0, repeats: 0 });
    if (kills === 0) {
      assert.equal(retries, 0);
      assert.equal(duplicates, 0);
    } else {
      // Batches stored but not yet acknowledged when the collector died were sent again
      // and suppressed by the store's batch-id window: each kill leaves some in flight.
      assert.ok(retries > 0, `retries ${retries}`);
      assert.ok(duplicates > 0, `duplicates ${duplicates} of ${retries} resent batches`);
    }
  } finally {
    clearInterval(writer);
    ship.kill('SIGKILL');
    serve.child.kill('SIGKILL');
    dir.cleanup();
  }
}

test(
  `ship serve - ${CRASH_RECORDS} records from a file being written, nothing failing: each ` +
    'stored once, nothing resent',
  { timeout: 240_000 },
  () => crashRun(0),
);

test(
  `ship serve - ${CRASH_RECORDS} records from a file being written, collector SIGKILLed and ` +
    'restarted 3 times: each stored once, repeats counted',
  { timeout: 240_000 },
  () => crashRun(3),
);
