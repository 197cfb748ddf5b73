// --follow behaves like `tail -F`: it reads new lines as they are appended, the rest of the old
// file and then the new one after a rename rotation, and restarts after a truncation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli, tempDir, waitForLine } from '../helpers.js';

function line(n: number, text: string): string {
  return `2026-03-01T10:00:${String(n).padStart(2, '0')}Z ERROR ${text}\n`;
}

test('query follow - reads appends, rename rotation and truncation', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'app.log');
  writeFileSync(file, line(1, 'first') + line(2, 'skip me'));
  const child = spawnCli([
    'query',
    file,
    '-f',
    '--poll-interval',
    '50ms',
    '--grep',
    'keep|first',
    '-o',
    'raw',
  ]);
  try {
    await waitForLine(child, /first$/, 'stdout');
    appendFileSync(file, line(3, 'keep appended'));
    await waitForLine(child, /keep appended$/, 'stdout');

    // Rename rotation: a last line lands in the old file after the rename, then the new file
    // starts; both must be read, the old one's last line first.
    renameSync(file, file + '.1');
    appendFileSync(file + '.1', line(4, 'keep late write to the rotated file'));
    writeFileSync(file, line(5, 'keep new file'));
    await waitForLine(child, /keep late write to the rotated file$/, 'stdout');
    await waitForLine(child, /keep new file$/, 'stdout');

    // Truncation (copytruncate): the file is emptied in place, then written again.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(file, line(6, 'keep after truncation'));
    await waitForLine(child, /keep after truncation$/, 'stdout');
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('close', r));
    dir.cleanup();
  }
  assert.equal(child.exitCode, 0, 'Ctrl-C after matches exits 0');
});

test('query follow - --limit ends the follow', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'app.log');
  writeFileSync(file, line(1, 'one'));
  const child = spawnCli(['query', file, '-f', '--poll-interval', '50ms', '-n', '2', '-o', 'raw']);
  const out: string[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b.toString()));
  try {
    await waitForLine(child, /one$/, 'stdout');
    appendFileSync(file, line(2, 'two') + line(3, 'three'));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.deepEqual(
      out
        .join('')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').pop()),
      ['one', 'two'],
    );
  } finally {
    child.kill();
    dir.cleanup();
  }
});
