import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeneratedFormat } from '../../src/generate/formats.js';
import { createRedactor } from '../../src/transforms/redact/redactor.js';
import { scoreRedaction } from '../../src/transforms/redact/score.js';

// Ground truth from the generator's healthcare scenario (--labels): every labelled span must
// be replaced. 20,000 lines per main format here (keeps this file within the suite budget);
// bench/tls.mjs runs 100,000 per format. The redactor is built with no knowledge of the
// generator's name lists: names are found from context only.
const MAIN: GeneratedFormat[] = ['json', 'syslog_rfc5424', 'logfmt', 'apache_combined'];
const OTHER: GeneratedFormat[] = ['syslog_rfc3164', 'apache_common', 'apache_error', 'nginx_error'];
const MAIN_LINES = Number(process.env.SLUICE_RECALL_LINES ?? 20_000);

for (const [formats, lines] of [
  [MAIN, MAIN_LINES],
  [OTHER, Math.round(MAIN_LINES / 4)],
] as const) {
  for (const format of formats) {
    test(`redact - recall 100% on ${lines} labelled healthcare lines, ${format}`, (t) => {
      const s = scoreRedaction(createRedactor(), { format, lines, seed: `recall-${format}` });
      const share = s.redactedChars ? (100 * s.outsideChars) / s.redactedChars : 0;
      t.diagnostic(
        `${format}: ${s.labelled} labelled spans in ${s.lines} lines, missed ${s.missed}; ` +
          `${s.redactedChars} characters redacted, ${share.toFixed(2)}% outside labelled spans`,
      );
      assert.ok(s.labelled > lines / 2, `too few labelled spans (${s.labelled}) to score`);
      const shown = s.misses
        .slice(0, 5)
        .map((m) => `${m.label.kind} ${JSON.stringify(m.label.text)} in ${m.redacted}`);
      assert.equal(s.missed, 0, `missed spans, e.g.:\n${shown.join('\n')}`);
    });
  }
}

test('redact - the scorer catches a miss (a redactor with names disabled)', () => {
  const rules = {
    preset: 'hipaa' as const,
    disabled: new Set(['name']),
    detectors: [],
    keys: [],
    skipKeys: [],
  };
  const s = scoreRedaction(createRedactor({ rules }), { format: 'json', lines: 300 });
  assert.ok(s.missed > 0);
  assert.ok(
    s.misses.every((m) => m.label.kind === 'name'),
    JSON.stringify(s.misses[0]),
  );
});
