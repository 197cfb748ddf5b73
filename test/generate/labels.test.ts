// Labels: every PHI span points at exactly its text in the line (string and byte offsets) and
// in the parsed record's field; and no patient data in a line is left without a label.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator, GENERATED_FORMATS, PHI_KINDS } from '../../src/generate/index.js';
import { createLineParser } from '../../src/parse/index.js';
import type { LogRecord } from '../../src/record/record.js';

const START = Date.parse('2026-03-01T08:00:00Z');
// Independent detectors for the shapes the healthcare scenario writes: anything they find must
// lie inside a label (so the labels miss nothing a redactor is scored on).
const DETECTORS: Array<[string, RegExp]> = [
  ['mrn', /MRN-\d{8}/g],
  ['ssn', /\b\d{3}-\d{2}-\d{4}\b/g],
  ['email', /[a-z0-9.]+@[a-z.]*example\.(com|net|org)/g],
  ['dob', /\b(19|20)\d\d-\d\d-\d\d\b|\b\d\d\/\d\d\/(19|20)\d\d\b|\d\d%2F\d\d%2F\d{4}/g],
  ['phone', /555[- ]0\d{3}/g],
];

function valueAt(rec: LogRecord, path: string): string {
  const parts = path.startsWith('syslog.structured_data.')
    ? ['syslog', 'structured_data', 'event@32473', path.split('.').slice(-1)[0]]
    : path.split('.');
  let v: unknown = rec;
  for (const p of parts) v = (v as Record<string, unknown> | undefined)?.[p];
  return String(v);
}

for (const format of GENERATED_FORMATS) {
  test(`generate - ${format} healthcare labels match the text they point at`, () => {
    const gen = createGenerator({
      format,
      scenario: 'healthcare',
      seed: 11,
      startTimeMs: START,
      ratePerSec: 10,
    });
    const parser = createLineParser({ format, assumeYear: 2026, now: START });
    const kinds = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const { line, label } = gen.labelledLine(gen.nextEvent());
      const bytes = Buffer.from(line, 'utf8');
      const out: LogRecord[] = [];
      parser.push(line, out);
      for (const p of label.phi) {
        kinds.add(p.kind);
        assert.equal(line.slice(p.start, p.end), p.text, `span in ${line}`);
        assert.equal(bytes.subarray(p.byte_start, p.byte_end).toString('utf8'), p.text);
        const field = valueAt(out[0], p.field);
        assert.ok(field.slice(p.field_start, p.field_end).length > 0, `${p.field} in ${line}`);
        if (!p.field.startsWith('http.')) {
          assert.equal(field.slice(p.field_start, p.field_end), p.text, `${p.field} of ${line}`);
        }
      }
      for (const [kind, re] of DETECTORS) {
        for (const m of line.matchAll(re)) {
          const s = m.index;
          const e = s + m[0].length;
          const covered = label.phi.some((p) => p.start <= s && p.end >= e);
          assert.ok(covered, `${kind} "${m[0]}" at ${s} has no label in ${line}`);
        }
      }
    }
    const expected = format.startsWith('apache_c')
      ? ['mrn', 'ip']
      : ['name', 'mrn', 'dob', 'ssn', 'phone', 'email', 'address'];
    for (const k of expected)
      assert.ok(kinds.has(k), `${format} labels ${k}; saw ${[...kinds].join(',')}`);
    for (const k of kinds) assert.ok((PHI_KINDS as readonly string[]).includes(k));
  });
}
