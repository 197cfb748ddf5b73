// The crash tests: a writer appends numbered lines, renaming the file away every 5 MB, while
// `sluice capture` is killed with SIGKILL and restarted. With `--out DIR` (500,000 lines, 10
// kills) every line must be in the batch files at least once, and each crash may repeat at
// most one batch. With `--store DIR` (smaller) every line must be in the store exactly once:
// a batch repeated after a crash is cut again with the same id, which the store drops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { readBatchFiles, sleep, waitUntil } from './util.js';

const BATCH_SIZE = 2000;

const WRITER = `
const fs = require('node:fs');
const [path, total] = [process.argv[1], Number(process.argv[2])];
let fd = fs.openSync(path, 'a');
let size = 0, rotations = 0, seq = 0;
function burst() {
  let chunk = '';
  for (let i = 0; i < 400 && seq < total; i++) {
    seq++;
    chunk += 'seq=' + seq + ' msg=payload-' + String(seq).padStart(7, '0') + '\\n';
  }
  fs.writeSync(fd, chunk);
  size += chunk.length;
  if (size >= 5 * 1024 * 1024) {
    fs.closeSync(fd);
    fs.renameSync(path, path + '.' + (++rotations));
    fd = fs.openSync(path, 'a');
    size = 0;
  }
  if (seq < total) setTimeout(burst, 8);
  else { fs.closeSync(fd); console.log('done ' + rotations); }
}
burst();
`;

interface CrashRun {
  lines: number;
  kills: number;
  /** Destination flags, e.g. ['--out', DIR]. */
  destination: (dir: string) => string[];
  /** Every seq now delivered, one entry per copy (read again until all are there). */
  delivered: (dir: string) => Promise<number[]>;
  /**
   * Kill numbers at which capture kills itself right after a batch reached the destination
   * and before its acknowledgement (SLUICE_CAPTURE_CRASH_AFTER), instead of a random SIGKILL.
   */
  failpointKills?: number[];
}

/**
 * Runs the writer and kills capture `kills` times; returns the seqs finally delivered and how
 * many of the kills were made by the failpoint.
 */
async function crashRun(
  run: CrashRun,
  dir: string,
): Promise<{ seqs: number[]; failpointCrashes: number }> {
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const app = join(logs, 'app.log');
  writeFileSync(app, '');
  const args = [
    'capture',
    '--path',
    `${app}*`,
    '--start-at',
    'beginning',
    '--format',
    'logfmt',
    '--state',
    join(dir, 'state'),
    ...run.destination(dir),
    '--batch-size',
    String(BATCH_SIZE),
    '--batch-wait',
    '200ms',
    '--poll-interval',
    '100ms',
  ];
  const writer = spawn(process.execPath, ['-e', WRITER, app, String(run.lines)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let writerDone = false;
  writer.stdout.on('data', (b: Buffer) => (writerDone ||= b.toString().startsWith('done')));
  const failpoint = (kill: number) =>
    run.failpointKills?.includes(kill) ? { SLUICE_CAPTURE_CRASH_AFTER: '3' } : undefined;
  let child = spawnCli(args, { env: failpoint(0) });
  let failpointCrashes = 0;
  try {
    for (let kill = 0; kill < run.kills; kill++) {
      const exited = new Promise<boolean>((r) => child.on('close', (_c, sig) => r(sig !== null)));
      await waitForLine(child, /^sluice capture: following/, 'stderr', 30_000);
      if (failpoint(kill)) {
        // It kills itself after its third batch; SIGKILL it if it has not by then.
        const died = await Promise.race([exited, sleep(5000).then(() => false)]);
        if (died) failpointCrashes++;
      } else await sleep(400 + Math.floor(Math.random() * 600));
      child.kill('SIGKILL');
      await exited;
      child = spawnCli(args, { env: failpoint(kill + 1) });
    }
    await waitForLine(child, /^sluice capture: following/, 'stderr', 30_000);
    await waitUntil(() => writerDone, 'the writer', 60_000);
    // Wait until the checkpoint covers every file, then stop gracefully.
    await waitUntil(() => caughtUp(dir), 'the checkpoint to reach the end of every file', 60_000);
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await closed;
    return { seqs: await run.delivered(dir), failpointCrashes };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (writer.exitCode === null) writer.kill('SIGKILL');
  }
}

/** True when every file in logs/ is checkpointed up to its size. */
function caughtUp(dir: string): boolean {
  let state: { files: Array<{ path: string; offset: number }> };
  try {
    state = JSON.parse(readFileSync(join(dir, 'state', 'checkpoints.json'), 'utf8'));
  } catch {
    return false;
  }
  const logs = join(dir, 'logs');
  return readdirSync(logs).every((name) => {
    const path = join(logs, name);
    const entry = state.files.find((f) => f.path === path);
    return entry !== undefined && entry.offset === statSync(path).size;
  });
}

/** Counts copies per seq; fails when one of 1..lines is missing. */
function countSeqs(seqs: number[], lines: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const seq of seqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  let missing = 0;
  for (let i = 1; i <= lines; i++) if (!counts.has(i)) missing++;
  assert.equal(missing, 0, 'lines never delivered');
  return counts;
}

test('crash - SIGKILL and restart 10 times while the file rotates: no line lost', async (t) => {
  const dir = tempDir();
  const lines = 500_000;
  const kills = 10;
  try {
    const { seqs } = await crashRun(
      {
        lines,
        kills,
        destination: (d) => ['--out', join(d, 'out')],
        delivered: async (d) =>
          readBatchFiles(join(d, 'out')).lines.map(
            (l) => (JSON.parse(l) as { fields: { seq: number } }).fields.seq,
          ),
      },
      dir.path,
    );
    const counts = countSeqs(seqs, lines);
    const repeated = seqs.length - counts.size;
    t.diagnostic(`${repeated} repeated lines over ${kills} crashes (${seqs.length} emitted)`);
    assert.ok(
      repeated <= kills * BATCH_SIZE,
      `${repeated} repeated lines; at most one batch (${BATCH_SIZE}) per crash allowed`,
    );
  } finally {
    dir.cleanup();
  }
});

test('crash - with --store, killed 4 times, twice just after a delivery: stored once', async (t) => {
  const dir = tempDir();
  const lines = 100_000;
  const kills = 4;
  try {
    const { seqs, failpointCrashes } = await crashRun(
      {
        lines,
        kills,
        failpointKills: [0, 2],
        destination: (d) => ['--store', join(d, 'store')],
        delivered: async (d) => {
          const q = await runCli(['query', '--store', join(d, 'store'), '--output', 'json'], {
            timeoutMs: 60_000,
          });
          assert.equal(q.code, 0, q.stderr);
          return q.stdout
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { fields: { seq: number } }).fields.seq);
        },
      },
      dir.path,
    );
    const counts = countSeqs(seqs, lines);
    const repeated = seqs.length - counts.size;
    t.diagnostic(
      `${repeated} repeated records over ${kills} crashes, ${failpointCrashes} of them just ` +
        `after a delivery (${seqs.length} stored)`,
    );
    // The first run has more than three batches to deliver (the writer takes seconds).
    assert.ok(failpointCrashes >= 1, 'no crash between a delivery and its acknowledgement');
    assert.equal(repeated, 0, 'records stored more than once');
  } finally {
    dir.cleanup();
  }
});
