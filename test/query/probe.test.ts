// The light readers must agree with the parser: the access-log probe on every line it accepts,
// and the NDJSON level scan on which lines can reach a level.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fixture } from '../helpers.js';
import { createLineParser } from '../../src/parse/line-parser.js';
import { LEVELS, LEVEL_RANK, type LogRecord } from '../../src/record/record.js';
import { accessProbe } from '../../src/query/probe/access.js';
import { rawAccessLine, rawRequestPath, readRawAccess } from '../../src/query/probe/access-raw.js';
import { jsonLevelLineStarts } from '../../src/query/probe/json-level.js';

function parseOne(line: string): LogRecord {
  const out: LogRecord[] = [];
  createLineParser({ now: Date.parse('2026-03-01T00:00:00Z') }).push(line, out);
  return out[0];
}

const ACCESS_FILES = [
  ['elastic-examples', 'apache_logs_head.log'],
  ['lnav', 'logfile_shop_access_log.0'],
  ['beats-filebeat', 'apache-access-test.log'],
  ['beats-filebeat', 'nginx-access-test.log'],
  ['beats-filebeat', 'apache-access-darwin-2.4.23.log'],
  ['lnav', 'logfile_syslog_with_access_log.0'],
];

test('query probe - the access probe reads what the parser reads', () => {
  const probe = accessProbe({ withTime: true, withRequestParts: true });
  let accepted = 0;
  const lines = ACCESS_FILES.flatMap((p) =>
    readFileSync(fixture('corpus', ...p), 'utf8')
      .split('\n')
      .filter(Boolean),
  );
  const odd = [
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a\\"b HTTP/1.1" 503 12 "-" "x"',
    '1.2.3.4 - - [31/Feb/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "-" 400 -',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" - 0',
    'vhost 1.2.3.4 - bob [17/May/2015:10:05:03 -0700] "POST /x?y=1 HTTP/2.0" 201 5 extra',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1x',
  ];
  for (const line of [...lines, ...odd]) {
    const light = probe(line);
    if (light === undefined) continue;
    accepted++;
    const rec = parseOne(line);
    assert.equal(light.format, rec.format, line);
    assert.equal(light.level, rec.level, line);
    assert.equal(light.timestamp, rec.timestamp, line);
    assert.equal(light.message, rec.message, line);
    for (const k of [
      'status',
      'bytes',
      'method',
      'path',
      'query',
      'protocol',
      'client_ip',
    ] as const) {
      assert.equal(light.http?.[k], rec.http?.[k], `${k} of ${line}`);
    }
  }
  assert.ok(accepted > 2700, `probe accepted only ${accepted} lines`);
});

const jsonLine = fc
  .record({
    level: fc.option(
      fc.oneof(
        fc.constantFrom(...LEVELS, 'ERROR', 'Warning', 'fatal', 'err', 'debug2', 'bogus', ''),
        fc.integer({ min: 0, max: 70 }),
      ),
      { nil: undefined },
    ),
    msg: fc.constantFrom('all good', 'error in handler', 'a "quoted" word', 'level', 'tab\there'),
    nested: fc.option(fc.constantFrom('info', 'error'), { nil: undefined }),
    spaced: fc.boolean(),
  })
  .map(({ level, msg, nested, spaced }) => {
    const o: Record<string, unknown> = {};
    if (level !== undefined) o.level = level;
    o.msg = msg;
    if (nested !== undefined) o.ctx = { level: nested };
    const text = JSON.stringify(o);
    return spaced ? text.replace(/":/g, '": ') : text;
  });

test('query probe - the NDJSON level scan keeps every line the parser puts at the level', () => {
  const other = fc.constantFrom(
    '2026-03-01T00:00:00Z ERROR plain text',
    'INFO nothing',
    'x',
    '{"level":"info","msg":"x" ERROR}',
    '{"level":"info"} fatal',
    '{"severity":"error","level":"info"}',
    '{"log":{"level":"error"}}',
    '{"level":"info","level":"error"}',
    '{"level":"info","msg":"a \\"quoted\\" error"}',
    '{"level":50.5}',
    '{"level":"érror"}',
  );
  fc.assert(
    fc.property(
      fc.array(fc.oneof(jsonLine, jsonLine, other), { minLength: 1, maxLength: 30 }),
      (lines) => {
        const buf = Buffer.from(lines.join('\n') + '\n');
        for (const min of ['notice', 'warn', 'error', 'critical'] as const) {
          const starts = new Set(jsonLevelLineStarts(buf, min));
          let s = 0;
          for (const line of lines) {
            const rec = parseOne(line);
            if (LEVEL_RANK[rec.level] >= LEVEL_RANK[min]) {
              assert.ok(starts.has(s), `--level ${min} dropped ${line} (parsed ${rec.level})`);
            }
            s += Buffer.byteLength(line) + 1;
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('query probe - the NDJSON level scan skips lines below the level', () => {
  const text =
    '{"level":"info","msg":"error"}\n{"level":"error"}\n{"msg":"no level"}\n' +
    '{"time":1,"level":30,"ctx":{"a":[1,"b"]}}\n{"level":"warn"}\n';
  const buf = Buffer.from(text);
  assert.deepEqual(jsonLevelLineStarts(buf, 'error'), [text.indexOf('{"level":"error"}')]);
  assert.deepEqual(jsonLevelLineStarts(buf, 'warn'), [
    text.indexOf('{"level":"error"}'),
    text.indexOf('{"level":"warn"}'),
  ]);
});

/** What the raw access reader says about a line, as the parser would put it. */
function rawReading(line: string) {
  const buf = Buffer.from(line);
  const facts = rawAccessLine();
  if (line.includes('\\') || !readRawAccess(buf, 0, buf.length, facts)) return undefined;
  const span = { start: 0, end: 0 };
  const path = rawRequestPath(buf, facts, span)
    ? buf.toString('utf8', span.start, span.end)
    : undefined;
  return { status: facts.status < 0 ? undefined : facts.status, path };
}

function assertRawAgrees(line: string): boolean {
  const raw = rawReading(line);
  if (raw === undefined) return false;
  const rec = parseOne(line);
  assert.match(rec.format, /^apache_(combined|common)$/, line);
  assert.equal(raw.status, rec.http?.status, `status of ${line}`);
  assert.equal(raw.path, rec.http?.path, `path of ${line}`);
  return true;
}

test('query probe - the raw access reader reads what the parser reads', () => {
  const lines = ACCESS_FILES.flatMap((p) =>
    readFileSync(fixture('corpus', ...p), 'utf8')
      .split('\n')
      .filter(Boolean),
  );
  let accepted = 0;
  for (const line of lines) if (assertRawAgrees(line)) accepted++;
  assert.ok(accepted > 2500, `raw reader accepted only ${accepted} lines`);
  const odd = [
    '1.2.3.4 - - [31/Feb/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "-" 400 -',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" - 0',
    'vhost 1.2.3.4 - bob [17/May/2015:10:05:03 -0700] "POST /x?y=1 HTTP/2.0" 201 5 extra',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1x',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /é?q HTTP/1.1" 503 1 "r" "ü"',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET  HTTP/1.1" 200 1',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "get /x HTTP/1.1" 200 1',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a b" 200 1',
    '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /x HTTP/1.1" 0200 1 "-" "no end',
  ];
  for (const line of odd) assertRawAgrees(line);
});

test('query probe - the raw access reader agrees with the parser on mangled lines', () => {
  const base =
    '10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a/b?c=d HTTP/1.0" 404 2326 ' +
    '"http://x/" "Mozilla/4.08"';
  const edit = fc.record({
    at: fc.nat({ max: base.length }),
    cut: fc.nat({ max: 3 }),
    put: fc.constantFrom('', ' ', '"', '[', ']', '-', '5', 'é', '?', '/', 'x', '  ', '\u00a0'),
  });
  fc.assert(
    fc.property(fc.array(edit, { maxLength: 3 }), (edits) => {
      let line = base;
      for (const { at, cut, put } of edits) {
        const p = Math.min(at, line.length);
        line = line.slice(0, p) + put + line.slice(p + cut);
      }
      assertRawAgrees(line);
    }),
    { numRuns: 2000 },
  );
});
