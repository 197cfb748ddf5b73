// `sluice parse` as a user runs it: stdin, gzip files, a bad file among good ones, --stats.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixture, runCli, tempDir } from '../helpers.js';

const ACCESS =
  '192.0.2.1 - - [12/Mar/2023:14:06:00 +0200] "GET /a?x=1 HTTP/1.1" 503 10 "-" "curl/8"\n' +
  '192.0.2.2 - - [12/Mar/2023:14:06:01 +0200] "GET /b HTTP/1.1" 200 20 "-" "curl/8"\n' +
  'not a log line at all\n';

test('cli parse - stdin to NDJSON, one record per line', async () => {
  const r = await runCli(['parse'], { input: ACCESS });
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(recs.length, 3);
  assert.equal(recs[0].http.status, 503);
  assert.equal(recs[0].level, 'error');
  assert.equal(recs[0].http.query, 'x=1');
  assert.equal(recs[2].format, 'text');
  assert.equal(recs[2].raw, 'not a log line at all');
  assert.ok(recs[2].parse_error);
});

test('cli parse - gzip by content, unreadable file reported, others read, exit 2', async () => {
  const dir = tempDir();
  try {
    const gz = join(dir.path, 'access.txt');
    writeFileSync(gz, gzipSync(ACCESS));
    const missing = join(dir.path, 'missing.log');
    const r = await runCli(['parse', missing, gz]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${missing}: no such file`));
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(recs.length, 3);
    assert.equal(recs[1].source, gz);
  } finally {
    dir.cleanup();
  }
});

test('cli parse - --stats --output json counts formats, failures, statuses, tops', async () => {
  const r = await runCli(['parse', '--stats', '--output', 'json', '--top', '1'], { input: ACCESS });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.lines, 3);
  assert.deepEqual(s.formats, { apache_combined: 2, text: 1 });
  assert.equal(s.failures.count, 1);
  assert.equal(s.failures.first[0].line, 3);
  assert.deepEqual(s.statuses, { 200: 1, 503: 1 });
  assert.deepEqual(s.status_classes, { '2xx': 1, '5xx': 1 });
  assert.equal(s.top.paths.length, 1);
  assert.equal(s.first_timestamp, '2023-03-12T12:06:00.000Z');
  assert.equal(s.last_timestamp, '2023-03-12T12:06:01.000Z');
});

test('cli parse - --stats table, --multiline and options with bad values', async () => {
  const table = await runCli(['parse', '--stats'], { input: ACCESS });
  assert.match(table.stdout, /lines\s+3/);
  assert.match(table.stdout, /apache_combined\s+2/);
  const ml = await runCli(['parse', '--multiline-start', '^\\d'], {
    input: '1 first\n  more\n2 second\n',
  });
  assert.equal(ml.stdout.trim().split('\n').length, 2);
  assert.equal(JSON.parse(ml.stdout.split('\n')[0]).message, '1 first\n  more');
  const bad = await runCli(['parse', '--timezone', 'Mars/Olympus']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Mars\/Olympus/);
  const zero = await runCli(['parse', '--max-line-bytes', '0'], { input: 'x\n' });
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--max-line-bytes: "0" must be at least 1 byte/);
  const tz = await runCli(['parse', '--timezone', 'Europe/Paris'], {
    input: '2023/07/01 12:00:00 [error] 1#1: boom\n',
  });
  assert.equal(JSON.parse(tz.stdout).timestamp, '2023-07-01T10:00:00.000Z');
});

test('cli parse - a corpus file through the real command', async () => {
  const r = await runCli(['parse', fixture('corpus', 'lnav', 'logfile_logfmt.0')]);
  assert.equal(r.code, 0);
  for (const line of r.stdout.trim().split('\n')) assert.equal(JSON.parse(line).format, 'logfmt');
});
