// Every case under test/fixtures/cases with an input.log and an expected.json: each expected
// record is a subset of the record sluice gives for that line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers.js';
import { createLineParser, parseLine } from '../../src/parse/index.js';
import { NewlineFramer } from '../../src/framing/newline.js';
import { encodeRecord } from '../../src/record/json.js';
import type { LogRecord } from '../../src/record/record.js';
import { assertRecordMatches, assertUniqueKeys } from './match.js';

interface Case {
  assumptions?: Record<string, string>;
  records: Array<Record<string, unknown>>;
}

function framedLines(bytes: Buffer): string[] {
  const framer = new NewlineFramer();
  const lines = framer.push(bytes);
  const last = framer.end();
  if (last !== undefined) lines.push(last);
  return lines;
}

/** The "now" the case assumes: the first RFC 3339 time in assumptions.now, if any. */
function caseNow(c: Case): number | undefined {
  const m = /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(c.assumptions?.now ?? '');
  return m ? Date.parse(m[0]) : undefined;
}

/** SCHEMA.md: a field the line did not carry is left out, never null, "" or "-". */
function assertNoEmptyFields(rec: LogRecord, where: string): void {
  const top = rec as unknown as Record<string, unknown>;
  const http = (rec.http ?? {}) as Record<string, unknown>;
  for (const [k, v] of [...Object.entries(top), ...Object.entries(http)]) {
    if (k === 'message') continue;
    assert.ok(v !== null && v !== '' && v !== '-', `${where}: ${k} is ${JSON.stringify(v)}`);
  }
}

const dir = fixture('cases');
const names = readdirSync(dir).filter(
  (n) => existsSync(join(dir, n, 'input.log')) && existsSync(join(dir, n, 'expected.json')),
);

test('cases - the case folder holds data-driven cases', () => {
  assert.ok(names.length >= 10, `found ${names.length}`);
});

for (const name of names) {
  test(`cases - ${name}`, () => {
    const c = JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8')) as Case;
    const lines = framedLines(readFileSync(join(dir, name, 'input.log')));
    const perLineNow = c.records.some((r) => r._received_at !== undefined);
    let recs: LogRecord[];
    if (perLineNow) {
      recs = lines.map((l, i) =>
        parseLine(l, { now: Date.parse(String(c.records[i]?._received_at)) }),
      );
    } else {
      const parser = createLineParser({ now: caseNow(c) });
      recs = [];
      for (const l of lines) parser.push(l, recs);
      parser.flush(recs);
    }
    assert.equal(recs.length, c.records.length, `${name}: number of records`);
    // Records from interleaved container streams may come in another order: pair by message.
    const unordered = name.includes('docker-json-file-partial');
    c.records.forEach((exp, i) => {
      const rec = unordered ? recs.find((r) => r.message === exp.message) : recs[i];
      assert.ok(rec, `${name} #${i}: no record with message ${String(exp.message)}`);
      assertRecordMatches(rec, exp, `${name} #${i}`);
      if (exp._unique_keys) assertUniqueKeys(encodeRecord(rec));
      // SCHEMA.md: never null, "" or "-" for a field the line did not carry.
      assertNoEmptyFields(rec, `${name} #${i}`);
    });
  });
}
