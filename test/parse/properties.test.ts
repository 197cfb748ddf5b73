// Property tests (fast-check): for generated access, syslog and JSON lines, parsing never
// throws, always gives a valid timestamp, level and severity, and recovers every field put in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseLine } from '../../src/parse/index.js';
import { LEVELS, SEVERITY } from '../../src/record/record.js';
import type { LogRecord } from '../../src/record/record.js';
import { decodeJson, encodeRecord } from '../../src/record/json.js';

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function assertValid(rec: LogRecord): void {
  assert.match(rec.timestamp, TIMESTAMP);
  assert.ok(LEVELS.includes(rec.level));
  assert.equal(rec.severity, SEVERITY[rec.level]);
  // The output is always valid JSON.
  decodeJson(encodeRecord(rec));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const instant = fc.date({
  min: new Date('1990-01-01Z'),
  max: new Date('2090-01-01Z'),
  noInvalidDate: true,
});
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const token = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,20}$/);
const safeText = fc.stringMatching(/^[A-Za-z0-9 ,.;:()/+=_-]{0,40}$/);

test('parse - arbitrary lines never throw and give a valid record', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (line) => {
      assertValid(parseLine(line, { now: 0 }));
    }),
    { numRuns: 3000 },
  );
});

test('parse - generated combined access lines give back every field', () => {
  const arb = fc.record({
    ip: ipv4,
    when: instant,
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
    path: token.map((t) => '/' + t),
    query: fc.option(token, { nil: undefined }),
    status: fc.integer({ min: 100, max: 599 }),
    bytes: fc.nat(1e9),
    referrer: fc.option(
      token.map((t) => 'https://example.com/' + t),
      { nil: undefined },
    ),
    ua: fc.option(
      safeText.filter((s) => s.trim() !== '' && s !== '-'),
      { nil: undefined },
    ),
  });
  fc.assert(
    fc.property(arb, (a) => {
      const d = a.when;
      const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      const date = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}`;
      const time = `${date}:${clock} +0000`;
      const target = a.query === undefined ? a.path : `${a.path}?${a.query}`;
      const request = `${a.method} ${target} HTTP/1.1`;
      const tail = `"${a.referrer ?? '-'}" "${a.ua ?? '-'}"`;
      const line = `${a.ip} - - [${time}] "${request}" ${a.status} ${a.bytes} ${tail}`;
      const rec = parseLine(line);
      assertValid(rec);
      assert.equal(rec.format, 'apache_combined');
      assert.equal(rec.timestamp, new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString());
      assert.deepEqual(rec.http, {
        client_ip: a.ip,
        method: a.method,
        path: a.path,
        ...(a.query !== undefined ? { query: a.query } : {}),
        protocol: 'HTTP/1.1',
        request,
        status: a.status,
        bytes: a.bytes,
        ...(a.referrer !== undefined ? { referrer: a.referrer } : {}),
        ...(a.ua !== undefined ? { user_agent: a.ua } : {}),
      });
      assert.equal(rec.level, a.status >= 500 ? 'error' : a.status >= 400 ? 'warn' : 'info');
    }),
    { numRuns: 1000 },
  );
});

const hostname = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}(\.[a-z]{2,5})?$/);
const tag = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,15}$/);
const message = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.;:()/=_-]{0,60}$/);

test('parse - generated RFC 3164 lines give back every field', () => {
  const arb = fc.record({
    pri: fc.integer({ min: 0, max: 191 }),
    when: instant,
    host: hostname,
    tag,
    pid: fc.option(fc.integer({ min: 1, max: 4_000_000 }), { nil: undefined }),
    msg: message,
  });
  fc.assert(
    fc.property(arb, (a) => {
      const d = a.when;
      const day = String(d.getUTCDate()).padStart(2, ' ');
      const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      const time = `${MONTHS[d.getUTCMonth()]} ${day} ${clock}`;
      const pid = a.pid === undefined ? '' : `[${a.pid}]`;
      const line = `<${a.pri}>${time} ${a.host} ${a.tag}${pid}: ${a.msg}`;
      const rec = parseLine(line, { assumeYear: d.getUTCFullYear() });
      assertValid(rec);
      assert.equal(rec.format, 'syslog_rfc3164');
      assert.equal(rec.timestamp, new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString());
      assert.equal(rec.host, a.host);
      assert.equal(rec.service, a.tag);
      assert.equal(rec.pid, a.pid);
      assert.equal(rec.message, a.msg);
      assert.equal(rec.syslog?.facility_code, a.pri >> 3);
      assert.equal(rec.syslog?.severity_code, a.pri & 7);
    }),
    { numRuns: 1000 },
  );
});

test('parse - generated RFC 5424 lines give back every field', () => {
  const sdValue = fc.string({ maxLength: 12 });
  const arb = fc.record({
    pri: fc.integer({ min: 0, max: 191 }),
    when: instant,
    host: hostname,
    app: tag,
    pid: fc.integer({ min: 1, max: 99999 }),
    params: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), sdValue, { maxKeys: 3 }),
    msg: message,
  });
  fc.assert(
    fc.property(arb, (a) => {
      const esc = (v: string) => v.replace(/[\\"\]]/g, (c) => '\\' + c);
      const params = Object.entries(a.params).map(([k, v]) => ` ${k}="${esc(v)}"`);
      const sd = `[x@32473${params.join('')}]`;
      const head = `<${a.pri}>1 ${a.when.toISOString()} ${a.host} ${a.app} ${a.pid} ID1`;
      const line = `${head} ${sd} ${a.msg}`;
      const rec = parseLine(line);
      assertValid(rec);
      assert.equal(rec.format, 'syslog_rfc5424');
      assert.equal(rec.timestamp, a.when.toISOString());
      assert.equal(rec.host, a.host);
      assert.equal(rec.service, a.app);
      assert.equal(rec.pid, a.pid);
      assert.equal(rec.message, a.msg);
      assert.equal(rec.syslog?.msgid, 'ID1');
      assert.deepEqual(rec.syslog?.structured_data, { 'x@32473': { ...a.params } });
    }),
    { numRuns: 1000 },
  );
});

test('parse - generated JSON lines give back every field, big integers exact', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 20 }).filter((s) => s !== ''),
    fc.integer(),
    fc.boolean(),
    fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 80n }),
  );
  const extra = fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), scalar, { maxKeys: 4 });
  const arb = fc.record({
    when: instant,
    level: fc.constantFrom(10, 20, 30, 40, 50, 60),
    msg: fc.string({ maxLength: 40 }).filter((s) => s !== ''),
    host: hostname,
    pid: fc.integer({ min: 1, max: 99999 }),
    extra,
  });
  const levels = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'critical' };
  fc.assert(
    fc.property(arb, (a) => {
      const parts = [
        `"level":${a.level}`,
        `"time":${a.when.getTime()}`,
        `"msg":${JSON.stringify(a.msg)}`,
        `"hostname":${JSON.stringify(a.host)}`,
        `"pid":${a.pid}`,
        ...Object.entries(a.extra).map(
          ([k, v]) =>
            `${JSON.stringify(k)}:${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`,
        ),
      ];
      const rec = parseLine(`{${parts.join(',')}}`);
      assertValid(rec);
      assert.equal(rec.format, 'json');
      assert.equal(rec.timestamp, a.when.toISOString());
      assert.equal(rec.level, levels[a.level as keyof typeof levels]);
      assert.equal(rec.message, a.msg);
      assert.equal(rec.host, a.host);
      assert.equal(rec.pid, a.pid);
      assert.deepEqual(rec.fields ?? {}, { ...a.extra });
      for (const [k, v] of Object.entries(a.extra)) {
        if (typeof v === 'bigint') assert.ok(encodeRecord(rec).includes(`"${k}":${v}`));
      }
    }),
    { numRuns: 1000 },
  );
});
