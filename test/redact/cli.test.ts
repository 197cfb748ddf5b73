import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStore, startServe, stop } from '../serve/helpers.js';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';

const PHI_LINE = JSON.stringify({
  timestamp: '2026-03-01T08:15:02.120Z',
  level: 'info',
  message: 'check-in completed for patient Aisha Haddad (MRN-17029888) DOB 2009-06-08',
  patient_phone: '(217) 555-0123',
});
const SECRETS = ['Aisha', 'Haddad', 'MRN-17029888', '2009-06-08', '555-0123'];

test('redact - capture --redact hipaa masks identifiers before the output', async () => {
  const dir = tempDir('sluice-redact-cli-');
  const file = join(dir.path, 'clinic.log');
  writeFileSync(file, PHI_LINE + '\n');
  const child = spawnCli([
    'capture',
    '--path',
    file,
    '--start-at',
    'beginning',
    '--out',
    '-',
    '--batch-wait',
    '100ms',
    '--redact',
    'hipaa',
  ]);
  try {
    const m = await waitForLine(child, /^\{.*\}$/, 'stdout', 20_000);
    const record = JSON.parse(m[0]) as { message: string; tags?: string[]; fields?: object };
    for (const s of SECRETS) assert.ok(!m[0].includes(s), `${s} leaked: ${m[0]}`);
    assert.match(record.message, /patient \[REDACTED:NAME\] \(\[REDACTED:MRN\]\)/);
    assert.ok(record.tags?.includes('redacted'), m[0]);
  } finally {
    await stop(child);
    dir.cleanup();
  }
});

test('redact - capture refuses a bad --redact preset at start', async () => {
  const r = await runCli(['capture', '--path', '/nonexistent/x.log', '--redact', 'gdpr']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--redact: "gdpr" is not a preset/);
});

test('redact - serve --redact hipaa stores records already redacted', async () => {
  const dir = tempDir('sluice-redact-cli-');
  const store = join(dir.path, 'store');
  const { child, port } = await startServe(['--store', store, '--redact', 'hipaa']);
  try {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end(PHI_LINE + '\n'));
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    // The connection's close is the collector's cue to flush; give it a moment, then drain.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await stop(child), 0);
    const records = await readStore(store);
    assert.equal(records.length, 1);
    const text = JSON.stringify(records[0]);
    for (const s of SECRETS) assert.ok(!text.includes(s), `${s} stored: ${text}`);
    assert.match(records[0]?.message ?? '', /\[REDACTED:NAME\]/);
    assert.ok(records[0]?.tags?.includes('redacted'), text);
  } finally {
    await stop(child, 'SIGKILL');
    dir.cleanup();
  }
});
