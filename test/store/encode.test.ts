// The writer reads record times from their digits; it must agree with Date.parse (what the
// store used before, and what readers and verify use) on every input, valid or not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { timestampMs } from '../../src/store/encode.js';

const same = (ts: string) => {
  const got = timestampMs(ts);
  const want = Date.parse(ts);
  assert.ok(Object.is(got, want), `${JSON.stringify(ts)}: ${got}, Date.parse says ${want}`);
};

const pad = (n: number, w: number) => String(n).padStart(w, '0');

test('store - record times read from digits equal Date.parse on every calendar day', () => {
  const years = [1000, 1583, 1899, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999];
  const times = ['00:00:00.000', '12:34:56.789', '23:59:59.999'];
  for (const y of years) {
    for (let mo = 0; mo <= 13; mo++) {
      for (let d = 0; d <= 32; d++) {
        for (const t of times) same(`${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${t}Z`);
      }
    }
  }
  // The day cache: alternating days and going back in time.
  for (const ts of ['2026-03-01T10:00:00.000Z', '2026-02-28T10:00:00.001Z']) same(ts);
  for (const ts of ['2026-03-01T23:59:59.999Z', '2026-03-01T00:00:00.000Z']) same(ts);
});

test('store - record times with a wrong character or shape go the way of Date.parse', () => {
  const valid = '2026-03-01T08:15:30.250Z';
  const chars = '0123456789-T:.Z+ z/a\u0660\uff10';
  for (let i = 0; i < valid.length; i++) {
    for (const c of chars) same(valid.slice(0, i) + c + valid.slice(i + 1));
  }
  for (const ts of ['', valid + ' ', valid.slice(0, 23), '2026-03-01T24:00:00.000Z']) same(ts);
  same('2026-03-01T24:30:00.000Z');
  same('2026-03-01T24:00:00.001Z');
  same('2026-03-01T08:15:60.000Z');
  same('2026-03-01T08:60:00.000Z');
  same('0999-12-31T23:59:59.999Z');
  same('+02026-03-01T08:15:30.250Z');
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$/), (ts) => {
      same(ts);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ minLength: 24, maxLength: 24 }), (ts) => same(ts)),
    { numRuns: 2000 },
  );
});
