// The store's crash test (RELIABILITY F1/F2): a child appends 1,000,000 records in batches
// with ids and is killed with SIGKILL at 20 random moments; each restart resumes from the
// first batch not reported durable, re-sending later ones with the same ids. At the end every
// record is present exactly once, nothing corrupt is readable, and verify passes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';
import { openStoreReader, openStoreWriter, verifyStore } from '../../src/store/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const WRITER = join(here, 'crash-writer.js');
const TOTAL = Number(process.env.SLUICE_CRASH_RECORDS ?? 1_000_000);
const BATCH = 2000;
const KILLS = 20;

interface Run {
  acked: Set<number>;
  done: boolean;
}

/**
 * Runs the child from record `from`. With `killAfterMs`, SIGKILLs it that long after its
 * first durable report (or after the start, when `fromStart`), so kills land mid-write.
 */
function runWriter(
  dir: string,
  from: number,
  killAfterMs: number | undefined,
  run: Run,
  fromStart = false,
) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [WRITER, dir, String(from), String(TOTAL), String(BATCH)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffered = '';
    let stderr = '';
    let killer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (killAfterMs !== undefined && !killer) {
        killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    };
    if (fromStart) arm();
    child.stdout.on('data', (b: Buffer) => {
      buffered += b.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^durable (\d+)$/.exec(line);
        if (m) {
          run.acked.add(Number(m[1]));
          arm();
        } else if (line === 'done') run.done = true;
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(guard);
      if (signal === 'SIGKILL' || code === 0) resolve();
      else reject(new Error(`writer exited ${code}: ${stderr}`));
    });
  });
}

function firstMissing(acked: Set<number>): number {
  let k = 0;
  while (acked.has(k)) k++;
  return k;
}

test('store - SIGKILL at 20 random moments loses no durable record and duplicates none', async () => {
  const tmp = tempDir('sluice-crash-');
  try {
    const run: Run = { acked: new Set(), done: false };
    let killedMidWrite = 0;
    for (let i = 0; i < KILLS && !run.done; i++) {
      const from = firstMissing(run.acked) * BATCH;
      const before = run.acked.size;
      // Most kills land while batches are being written; every fourth one may hit start-up,
      // recovery or compression instead.
      const fromStart = i % 4 === 3;
      const delay = Math.floor(Math.random() * (fromStart ? 1500 : 400));
      await runWriter(tmp.path, from, delay, run, fromStart);
      if (run.acked.size > before && !run.done) killedMidWrite++;
    }
    assert.ok(
      killedMidWrite >= 5,
      `only ${killedMidWrite} kills landed while records were written`,
    );
    while (!run.done) await runWriter(tmp.path, firstMissing(run.acked) * BATCH, undefined, run);
    const batches = Math.ceil(TOTAL / BATCH);
    assert.equal(firstMissing(run.acked), batches, 'every batch was reported durable');

    // Reopening recovers anything a kill left behind; then every check must pass.
    const writer = await openStoreWriter(tmp.path, { compression: 'none' });
    await writer.close();
    const report = await verifyStore(tmp.path);
    assert.deepEqual(report.problems, []);

    const seen = new Uint8Array(TOTAL);
    let lines = 0;
    for await (const chunk of openStoreReader(tmp.path).raw()) {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        lines++;
        const rec = JSON.parse(line) as { fields: { seq: number }; message: string };
        assert.equal(rec.message, `request ${rec.fields.seq} served`);
        seen[rec.fields.seq]++;
      }
    }
    assert.equal(lines, TOTAL, 'records read back');
    const wrong = seen.findIndex((n) => n !== 1);
    assert.equal(wrong, -1, `record ${wrong} is present ${seen[wrong]} times`);
  } finally {
    tmp.cleanup();
  }
});
