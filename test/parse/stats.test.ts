// --stats: the light access-log path gives exactly the statistics of the full parser, and the
// top counters stay bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers.js';
import { createLineParser } from '../../src/parse/index.js';
import { ParseStats, TopCounter } from '../../src/parse/stats.js';
import type { LogRecord } from '../../src/record/record.js';

function report(lines: string[], light: boolean) {
  const stats = new ParseStats();
  const parser = createLineParser({ now: Date.parse('2024-06-01T00:00:00Z') });
  const recs: LogRecord[] = [];
  lines.forEach((line, i) => {
    stats.lines++;
    if (light && stats.addAccessLine(line)) return;
    parser.push(line, recs);
    for (const r of recs) stats.add(r, i + 1);
    recs.length = 0;
  });
  const r = stats.report(10) as unknown as Record<string, unknown>;
  for (const k of ['elapsed_ms', 'lines_per_second', 'bytes_per_second']) delete r[k];
  return r;
}

const FILES = [
  ['elastic-examples', 'apache_logs_head.log'],
  ['lnav', 'logfile_shop_access_log.0'],
  ['beats-filebeat', 'apache-access-test.log'],
  ['beats-filebeat', 'nginx-access-test.log'],
  ['beats-filebeat', 'nginx-ingress-controller-test.log'],
  ['lnav', 'logfile_syslog_with_access_log.0'],
];

test('stats - the light access path and the full parser agree on corpus files', () => {
  for (const parts of FILES) {
    const lines = readFileSync(fixture('corpus', ...parts), 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    assert.deepEqual(report(lines, true), report(lines, false), parts.join('/'));
  }
});

test('stats - the light path declines odd lines, which then parse in full', () => {
  const lines = [
    '192.0.2.1 - - [12/Mar/2023:14:06:00 +0200] "GET /a\\"b HTTP/1.1" 404 1 "-" "x"',
    '10.0.0.2, 192.0.2.9 - - [12/Mar/2023:14:06:01 +0200] "GET /x HTTP/1.1" 200 1',
    '192.0.2.3 - - [12/Mar/2023:14:06:02 +0200] "" 400 0 "-" "-"',
    '192.0.2.4 - bob [12/Mar/2023:14:06:03 +0200] "\\x16\\x03" 400 0',
    '192.0.2.5 - - [12/Mar/2023:14:06:04 +0200] "GET /?q HTTP/1.1" - - "-"',
    '192.0.2.6 - - [12/Mar/2023:14:06:05 +0200] "GET /y HTTP/1.1" 200 1 "-" "unterminated',
  ];
  assert.deepEqual(report(lines, true), report(lines, false));
});

test('stats - top counters are exact while small and bounded when not', () => {
  const small = new TopCounter(100);
  for (const v of ['a', 'b', 'a', 'c', 'a', 'b']) small.add(v);
  assert.deepEqual(small.top(2), [
    { value: 'a', count: 3 },
    { value: 'b', count: 2 },
  ]);
  assert.equal(small.approximate, false);
  const big = new TopCounter(50);
  for (let i = 0; i < 5000; i++) big.add(i % 3 === 0 ? 'hot' : `cold${i}`);
  assert.equal(big.top(1)[0].value, 'hot');
  assert.equal(big.approximate, true);
});
