// The crash test: a writer appends 500,000 numbered lines, renaming the file away every 5 MB,
// while `sluice capture --out DIR` is killed with SIGKILL and restarted 10 times. Every line
// must be in the batch files at least once, and each crash may repeat at most one batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli, tempDir, waitForLine } from '../helpers.js';
import { readBatchFiles, sleep, waitUntil } from './util.js';

const LINES = 500_000;
const KILLS = 10;
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

test('crash - SIGKILL and restart 10 times while the file rotates: no line lost', async (t) => {
  const dir = tempDir();
  const logs = join(dir.path, 'logs');
  const out = join(dir.path, 'out');
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
    join(dir.path, 'state'),
    '--out',
    out,
    '--batch-size',
    String(BATCH_SIZE),
    '--batch-wait',
    '200ms',
    '--poll-interval',
    '100ms',
  ];
  const writer = spawn(process.execPath, ['-e', WRITER, app, String(LINES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let writerDone = false;
  writer.stdout.on('data', (b: Buffer) => (writerDone ||= b.toString().startsWith('done')));
  let child = spawnCli(args);
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      await waitForLine(child, /^sluice capture: following/, 'stderr', 30_000);
      await sleep(400 + Math.floor(Math.random() * 600));
      const exited = new Promise((r) => child.on('close', r));
      child.kill('SIGKILL');
      await exited;
      child = spawnCli(args);
    }
    await waitUntil(() => writerDone, 'the writer', 60_000);
    const seqs = new Set<number>();
    await waitUntil(
      () => {
        for (const line of readBatchFiles(out).lines) {
          seqs.add((JSON.parse(line) as { fields: { seq: number } }).fields.seq);
        }
        return seqs.size >= LINES;
      },
      'every line in the batch files',
      60_000,
    );
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await closed;

    const { lines } = readBatchFiles(out);
    const counts = new Map<number, number>();
    for (const line of lines) {
      const seq = (JSON.parse(line) as { fields: { seq: number } }).fields.seq;
      counts.set(seq, (counts.get(seq) ?? 0) + 1);
    }
    let missing = 0;
    for (let i = 1; i <= LINES; i++) if (!counts.has(i)) missing++;
    assert.equal(missing, 0, 'lines never emitted');
    const repeated = lines.length - counts.size;
    t.diagnostic(`${repeated} repeated lines over ${KILLS} crashes (${lines.length} emitted)`);
    assert.ok(
      repeated <= KILLS * BATCH_SIZE,
      `${repeated} repeated lines; at most one batch (${BATCH_SIZE}) per crash allowed`,
    );
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (writer.exitCode === null) writer.kill('SIGKILL');
    dir.cleanup();
  }
});
