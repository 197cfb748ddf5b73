// Terminal-escape injection (RELIABILITY B8, B9): control characters in log data are shown
// escaped, never passed to the terminal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControl, escapeJsonText } from '../../src/query/output/escape.js';

const HOSTILE = [
  '\u001b[2J',
  '\u001b]52;c;ZXZpbA==\u0007',
  '\u001b[21t',
  '\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\',
  '\u009b31m',
  '\u009d0;title\u009c',
  '\u0007',
  'a\rb',
  'nul\u0000',
  'x\u2028y',
  '\u202eevil',
  'line\n2025-01-01 INFO admin login ok',
];

function assertSafe(text: string): void {
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    assert.ok(
      !(c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0x202e),
      `unsafe U+${c.toString(16)} in ${JSON.stringify(text)}`,
    );
  }
}

test('query escape - control characters and ANSI sequences are shown escaped', () => {
  for (const s of HOSTILE) assertSafe(escapeControl(s));
  assert.equal(escapeControl('\u001b[2J'), '\\x1b[2J');
  assert.equal(escapeControl('\u009b31m'), '\\x9b31m');
  assert.equal(escapeControl('a\rb\tc\nd'), 'a\\rb\\tc\\nd');
  assert.equal(escapeControl('x\u2028y'), 'x\\u2028y');
  assert.equal(escapeControl('plain text é ✓'), 'plain text é ✓');
});

test('query escape - JSON output has no raw C1 controls or line separators', () => {
  for (const s of HOSTILE) {
    const json = escapeJsonText(JSON.stringify({ message: s }));
    assertSafe(json);
    assert.deepEqual(JSON.parse(json), { message: s }, 'the JSON still reads back the same');
  }
});
