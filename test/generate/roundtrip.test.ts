// Round trip: every generated line parses back with `sluice parse` into a record whose fields
// equal the values the generator chose (100,000 lines per format, across the scenarios).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator, GENERATED_FORMATS } from '../../src/generate/index.js';
import { createLineParser } from '../../src/parse/index.js';
import type { LogRecord } from '../../src/record/record.js';
import { expectedRecord } from './expected.js';

const LINES = 100_000;
const START = Date.parse('2026-03-01T08:00:00Z');
const SCENARIOS: Array<[string, number]> = [
  ['web', 0.5],
  ['incident', 0.25],
  ['healthcare', 0.25],
];

function normalise(rec: LogRecord): Record<string, unknown> {
  // Drop keys this comparison does not own (source, raw), keep every chosen value.
  const { source: _s, raw: _r, ...rest } = rec;
  return JSON.parse(JSON.stringify(rest));
}

for (const format of GENERATED_FORMATS) {
  test(`generate - ${format} lines parse back to the chosen values`, () => {
    let checked = 0;
    const mismatches: string[] = [];
    for (const [scenario, share] of SCENARIOS) {
      const gen = createGenerator({
        format,
        scenario,
        seed: `roundtrip-${format}-${scenario}`,
        startTimeMs: START,
        ratePerSec: 50,
      });
      const parser = createLineParser({ format, assumeYear: 2026, now: START });
      const out: LogRecord[] = [];
      const n = Math.round(LINES * share);
      for (let i = 0; i < n; i++) {
        const ev = gen.nextEvent();
        const line = gen.line(ev);
        out.length = 0;
        parser.push(line, out);
        assert.equal(out.length, 1, `one record for ${line}`);
        const got = normalise(out[0]);
        const want = normalise(expectedRecord(ev, format));
        try {
          assert.deepEqual(got, want);
        } catch {
          if (mismatches.length < 3) {
            mismatches.push(
              `${line}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`,
            );
          }
        }
        checked++;
      }
    }
    assert.equal(checked, LINES);
    assert.deepEqual(mismatches, [], mismatches.join('\n'));
  });
}
