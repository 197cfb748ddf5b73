// Capture's encoded mode (batches as NDJSON bytes, plain access lines written straight from
// the file's bytes) must give the same output as the record path. A tag rule that matches
// nothing turns the encoded mode off without changing any record, so the two runs below
// differ only in the path taken.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { readBatchFiles, waitUntil } from './util.js';

const ACCESS_FIXTURES = [
  ['elastic-examples', 'apache_logs_head.log'],
  ['lnav', 'logfile_shop_access_log.0'],
  ['beats-filebeat', 'apache-access-darwin-2.4.23.log'],
];

/** Lines the byte-level path must decline or get exactly right, between ordinary ones. */
const AWKWARD = [
  '10.0.0.1 - - [01/Mar/2026:08:15:02 +0000] "GET /a\\"b HTTP/1.1" 200 12 "-" "curl/8"',
  '10.0.0.1 - - [01/Mar/2026:08:15:02 +0000] "GET /caf\u00e9 HTTP/1.1" 200 12 "-" "curl/8"',
  '10.0.0.1 - - [01/Mar/2026:08:15:02 +0000] "GET /tab\there HTTP/1.1" 200 12 "-" "x"',
  '10.0.0.1 - - [01/Mar/2026:08:15:02 +0000] "GET / HTTP/1.1" 200 12 "-" "x"\r',
  '2001:db8::1 - alice [01/Mar/2026:08:15:03 -0700] "POST /login?next=%2F HTTP/2.0" 302 - "-" "-"',
  '10.0.0.2 - - [01/Mar/2026:08:15:04 +0000] "-" 400 0 "-" "-"',
  '10.0.0.3 - - [01/Mar/2026:08:15:05 +0000] "\\x16\\x03\\x01" 400 226 "-" "-"',
  '10.0.0.4 - - [01/Mar/2026:08:15:06 +0000] "GET /big HTTP/1.1" 200 12345678901 "-" "x"',
  '10.0.0.5 - - [31/Feb/2026:08:15:06 +0000] "GET /bad-day HTTP/1.1" 200 1 "-" "x"',
  '{"level":"info","msg":"a json line between access lines","time":"2026-03-01T08:15:07Z"}',
  '<34>1 2026-03-01T08:15:08.003Z host app 12 ID47 - a syslog line',
  '10.0.0.6 - - [01/Mar/2026:08:15:09 +0000] "GET /after-json HTTP/1.1" 503 7 "-" "x"',
  'plain text that is no known format',
  '10.0.0.7 - - [01/Mar/2026:08:15:10 +0000] "GET /ok HTTP/1.1" 404 9 "http://r/" "UA"',
];

/** Runs capture over `file` to batch files (or stdout) until every line is in, then stops. */
async function captureAll(
  file: string,
  lines: number,
  extra: string[],
  out: string,
): Promise<{ out: string; fromBytes: number }> {
  const args = ['capture', '--path', file, '--start-at', 'beginning', '--out', out, ...extra];
  const child = spawnCli([...args, '--batch-size', '500', '--max-line-bytes', '500']);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise((resolve) => child.on('close', resolve));
  try {
    await waitForLine(child, /^sluice capture: following/, 'stderr', 30_000);
    const count = () =>
      out === '-' ? stdout.split('\n').length - 1 : readBatchFiles(out).lines.length;
    await waitUntil(() => count() >= lines, `${lines} records`, 30_000);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const fromBytes = Number(/records_from_bytes=(\d+)/.exec(stderr)?.[1] ?? NaN);
  const text = out === '-' ? stdout : readBatchFiles(out).lines.join('\n') + '\n';
  return { out: text.replace(RECEIVED_AT, '{"timestamp":"(received)"'), fromBytes };
}

/** Lines without a time of their own get the time they were read: different in each run. */
const RECEIVED_AT = /^\{"timestamp":"[^"]+"(?=.*"format":"text")/gm;

test('capture encoded - batch files and stdout equal the record path byte for byte', async () => {
  const dir = tempDir();
  try {
    const gen = await runCli([
      'generate',
      '--format',
      'apache_combined',
      '--count',
      '3000',
      '--seed',
      'encoded',
      '--rate',
      '0',
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    const parts = ACCESS_FIXTURES.map((p) => readFileSync(fixture('corpus', ...p), 'utf8'));
    const body = [...parts, gen.stdout, AWKWARD.join('\n') + '\n', 'x'.repeat(600) + '\n']
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '');
    // A byte order mark first and invalid UTF-8 inside: both must leave the byte path.
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(body.slice(0, 10).join('\n') + '\n'),
      Buffer.from([0x31, 0x2e, 0x32, 0x20, 0xff, 0xfe, 0x0a]),
      Buffer.from(body.slice(10).join('\n') + '\n'),
    ]);
    const file = join(dir.path, 'access.log');
    writeFileSync(file, bytes);
    const lines = body.length + 1;
    const never = ['--tag', 'never=^THIS LINE DOES NOT EXIST$'];
    for (const out of ['-', 'dir']) {
      const target = (name: string) => (out === '-' ? '-' : join(dir.path, name));
      const encoded = await captureAll(file, lines, [], target('fast'));
      const general = await captureAll(file, lines, never, target('general'));
      assert.equal(encoded.out.split('\n').length - 1, lines);
      assert.equal(encoded.out, general.out, `--out ${out}`);
      // The byte path took the plain lines (most of them), the record path none.
      assert.ok(encoded.fromBytes > 3000, `from bytes: ${encoded.fromBytes}`);
      assert.equal(general.fromBytes, 0);
    }
  } finally {
    dir.cleanup();
  }
});
