// RecordBytesWriter must write exactly the bytes of `encodeRecord(rec) + '\n'` in UTF-8: for
// generated records with awkward strings (controls, quotes, lone surrogates, astral
// characters), for records parsed from the fixture corpus, and across chunk hand-overs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { RecordBytesWriter } from '../../src/record/json-bytes.js';
import { encodeRecord } from '../../src/record/json.js';
import { FORMATS, LEVELS, SEVERITY } from '../../src/record/record.js';
import type { JsonValue, LogRecord } from '../../src/record/record.js';
import { createLineParser } from '../../src/parse/index.js';
import { fixture } from '../helpers.js';

function written(recs: LogRecord[], chunkBytes?: number): Buffer {
  const chunks: Buffer[] = [];
  const w = new RecordBytesWriter((c) => chunks.push(Buffer.from(c)), chunkBytes);
  for (const r of recs) w.add(r);
  const rest = w.take();
  if (rest) chunks.push(rest);
  return Buffer.concat(chunks);
}

function expected(recs: LogRecord[]): Buffer {
  return Buffer.from(recs.map((r) => encodeRecord(r) + '\n').join(''), 'utf8');
}

// Any UTF-16 code units, so lone and paired surrogates both occur.
const units = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    ),
    { maxLength: 40 },
  )
  .map((a) => String.fromCharCode(...a));
const num = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.nat(),
  fc.constantFrom(0, -0, 1e21, 2 ** 53 + 2, NaN, Infinity),
);
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    units,
    num,
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(units, tie('v'), { maxKeys: 4 }),
  ),
})).v;

const record: fc.Arbitrary<LogRecord> = fc
  .record(
    {
      level: fc.constantFrom(...LEVELS),
      message: units,
      format: fc.constantFrom(...FORMATS),
      host: units,
      service: units,
      pid: num,
      source: units,
      http: fc.record(
        {
          client_ip: units,
          remote_user: units,
          method: units,
          path: units,
          query: units,
          protocol: units,
          request: units,
          status: num,
          bytes: num,
          referrer: units,
          user_agent: units,
        },
        { requiredKeys: [] },
      ),
      syslog: fc.record(
        {
          facility: units,
          facility_code: fc.integer({ min: 0, max: 23 }),
          severity_code: fc.integer({ min: 0, max: 7 }),
          msgid: units,
          structured_data: fc.dictionary(units, fc.dictionary(units, units, { maxKeys: 3 }), {
            maxKeys: 3,
          }),
        },
        { requiredKeys: [] },
      ),
      fields: fc.dictionary(units, jsonValue, { maxKeys: 5 }),
      tags: fc.array(units, { maxLength: 3 }),
      raw: units,
      parse_error: units,
    },
    { requiredKeys: ['level', 'message', 'format'] },
  )
  .map((r) => ({ timestamp: '2026-03-01T08:15:02.120Z', severity: SEVERITY[r.level], ...r }));

test('json-bytes - generated records give the bytes of encodeRecord', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 5 }), (recs) => {
      assert.deepEqual(written(recs), expected(recs));
    }),
    { numRuns: 1500 },
  );
});

test('json-bytes - small chunks and one huge value hand over the same bytes', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 6 }), fc.integer({ min: 1, max: 300 }), (recs, n) =>
      assert.deepEqual(written(recs, n), expected(recs)),
    ),
    { numRuns: 500 },
  );
  const big: LogRecord = {
    timestamp: '2026-03-01T08:15:02.120Z',
    level: 'info',
    severity: 9,
    message: 'é"\u0001'.repeat(200_000),
    format: 'text',
  };
  assert.deepEqual(written([big, big], 1024), expected([big, big]));
});

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p));
    else if (/\.(log|txt|json|ndjson)$/.test(name) || !name.includes('.')) out.push(p);
  }
  return out;
}

test('json-bytes - records parsed from the fixture corpus give the bytes of encodeRecord', () => {
  const recs: LogRecord[] = [];
  for (const file of corpusFiles(fixture('corpus'))) {
    const parser = createLineParser({ now: 0, source: file, keepRaw: true });
    for (const line of readFileSync(file, 'utf8').split('\n')) parser.push(line, recs);
    parser.flush(recs);
  }
  assert.ok(recs.length > 1000, `only ${recs.length} corpus records`);
  assert.deepEqual(written(recs), expected(recs));
});

test('json-bytes - append() and reserve()/commit() keep bytes in order across chunks', () => {
  for (const chunkBytes of [64, 1000, 1 << 16]) {
    const out: Buffer[] = [];
    const w = new RecordBytesWriter((c) => void out.push(Buffer.from(c)), chunkBytes);
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `{"n":${i},"pad":"${'x'.repeat(i % 150)}"}\n`;
      expected.push(text);
      if (i % 2 === 0) w.append(Buffer.from(text));
      else {
        const b = w.reserve(text.length);
        const end = w.pendingBytes + b.write(text, w.pendingBytes, 'latin1');
        w.commit(end);
      }
    }
    const rest = w.take();
    if (rest !== undefined) out.push(Buffer.from(rest));
    assert.equal(Buffer.concat(out).toString('latin1'), expected.join(''), `chunk ${chunkBytes}`);
  }
});
