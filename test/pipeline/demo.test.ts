// The demo end to end, as `npm start` runs it but shorter: every line the generators and the
// sample files hold is found in the store exactly once, redacted, and the report balances.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';
import { createLineParser } from '../../src/parse/index.js';
import { createRedactor } from '../../src/transforms/redact/redactor.js';
import { openStoreReader } from '../../src/store/index.js';
import type { LogRecord } from '../../src/record/record.js';

/** A line with no time of its own takes the time it was read, so then only its text counts. */
function key(r: LogRecord): string {
  return r.format === 'text' ? r.message : `${r.timestamp}\u0000${r.message}`;
}

/** What the shipper should have sent: every line of every file, parsed and redacted. */
function expectedRecords(dirs: string[]): Map<string, number> {
  const redactor = createRedactor({ preset: 'hipaa', mode: 'mask' });
  const counts = new Map<string, number>();
  for (const dir of dirs) {
    for (const name of readdirSync(dir)) {
      const parser = createLineParser({ source: join(dir, name) });
      const out: LogRecord[] = [];
      const text = readFileSync(join(dir, name), 'utf8');
      for (const line of text.split('\n')) if (line !== '') parser.push(line, out);
      parser.flush(out);
      for (const r of redactor.redactBatch(out)) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
    }
  }
  return counts;
}

test(
  'demo - every written line is stored exactly once, redacted, and the report balances',
  {
    timeout: 150_000,
  },
  async () => {
    const dir = tempDir('sluice-demo-');
    try {
      const run = await runCli(
        ['demo', '--dir', dir.path, '--duration', '20s', '--rate', '40', '--status-interval', '5s'],
        { timeoutMs: 140_000 },
      );
      assert.equal(run.code, 0, `demo failed:\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /Balanced: written = read = parsed = acknowledged = stored/);
      assert.match(run.stdout, /sluice query --store/);

      const expected = expectedRecords([join(dir.path, 'logs'), join(dir.path, 'samples')]);
      const stored = new Map<string, number>();
      let healthcare = 0;
      for await (const batch of openStoreReader(join(dir.path, 'store'), {})) {
        for (const r of batch) {
          stored.set(key(r), (stored.get(key(r)) ?? 0) + 1);
          if (r.service === 'clinic-ehr') {
            healthcare++;
            assert.doesNotMatch(r.message, /\b\d{3}-\d{2}-\d{4}\b/, 'an SSN survived redaction');
            assert.doesNotMatch(r.message, /MRN-\d+/, 'a record number survived redaction');
          }
        }
      }
      assert.ok(healthcare > 100, `only ${healthcare} healthcare records`);
      const total = [...expected.values()].reduce((a, b) => a + b, 0);
      assert.ok(total > 2000, `only ${total} records written`);
      const missing = [...expected].filter(([k, n]) => stored.get(k) !== n);
      const extra = [...stored].filter(([k]) => !expected.has(k));
      const detail = missing.slice(0, 3).map(([k, n]) => [k, n, stored.get(k)]);
      assert.deepEqual(detail, [], `${missing.length} records not stored exactly once`);
      assert.deepEqual(
        extra.slice(0, 3),
        [],
        `${extra.length} records stored that were not written`,
      );
    } finally {
      dir.cleanup();
    }
  },
);
