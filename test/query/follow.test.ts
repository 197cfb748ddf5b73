// --follow behaves like `tail -F`: it reads new lines as they are appended, the rest of the old
// file and then the new one after a rename rotation, and restarts after a truncation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnCli, tempDir } from '../helpers.js';

/** Collects a child's stdout; `until` resolves once the whole output matches. */
function collector(child: ChildProcess) {
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    text: () => out,
    until(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${out}`)), timeoutMs);
        const check = () => {
          if (pattern.test(out)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

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
  const out = collector(child);
  try {
    await out.until(/first\n/);
    appendFileSync(file, line(3, 'keep appended'));
    await out.until(/keep appended\n/);

    // Rename rotation: a last line lands in the old file after the rename, then the new file
    // starts; both must be read, the old one's last line first.
    renameSync(file, file + '.1');
    appendFileSync(file + '.1', line(4, 'keep late write to the rotated file'));
    writeFileSync(file, line(5, 'keep new file'));
    await out.until(/keep late write to the rotated file\n(.*\n)*.*keep new file\n/);

    // Truncation (copytruncate): the file is emptied in place, then written again.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(file, line(6, 'keep after truncation'));
    await out.until(/keep after truncation\n/);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('close', r));
    dir.cleanup();
  }
  assert.equal(child.exitCode, 0, 'Ctrl-C after matches exits 0');
  const kept = out.text().split('\n').filter(Boolean);
  assert.deepEqual(
    kept.map((l: string) => l.replace(/^\S+ ERROR /, '')),
    [
      'first',
      'keep appended',
      'keep late write to the rotated file',
      'keep new file',
      'keep after truncation',
    ],
    'every line once, in order, and nothing that does not match',
  );
});

test('query follow - --limit ends the follow', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'app.log');
  writeFileSync(file, line(1, 'one'));
  const child = spawnCli(['query', file, '-f', '--poll-interval', '50ms', '-n', '2', '-o', 'raw']);
  const out = collector(child);
  try {
    await out.until(/one\n/);
    appendFileSync(file, line(2, 'two') + line(3, 'three'));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.deepEqual(
      out
        .text()
        .trim()
        .split('\n')
        .map((l: string) => l.split(' ').pop()),
      ['one', 'two'],
    );
  } finally {
    child.kill();
    dir.cleanup();
  }
});
