import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LogRecord } from '../../src/record/record.js';
import { createRedactor } from '../../src/transforms/redact/redactor.js';
import { compileRules, loadRules } from '../../src/transforms/redact/rules.js';
import { readRedactKey } from '../../src/transforms/redact/pseudonym.js';
import { metricValue } from '../../src/telemetry/metrics.js';
import { tempDir } from '../helpers.js';

/** Tricky lines: each identifier must be gone from the output, and its kind must show. */
const CASES: Array<{ line: string; secrets: string[]; kinds: string[] }> = [
  {
    line: 'Patient John Smith (MRN-12345678) DOB 1980-05-04, SSN 123-45-6789.',
    secrets: ['John', 'Smith', 'MRN-12345678', '1980-05-04', '123-45-6789'],
    kinds: ['NAME', 'MRN', 'DATE', 'SSN'],
  },
  {
    line: '{"patient":"Ana-Lucía Van der Berg","note":"call (217) 555-0123;email ana.vdb@example.org"}',
    secrets: ['Ana-Lucía', 'Van der Berg', '(217) 555-0123', 'ana.vdb@example.org'],
    kinds: ['NAME', 'PHONE', 'EMAIL'],
  },
  {
    line: 'pt=D\'Andre O\'Brien dob=03/14/1975 phone=+1 512 555 0142 addr="77 2nd Avenue, Madison, WI 53701"',
    secrets: ["D'Andre", "O'Brien", '03/14/1975', '512 555 0142', '77 2nd Avenue', '53701'],
    kinds: ['NAME', 'DATE', 'PHONE', 'ADDRESS'],
  },
  {
    line: 'GET /chart?mrn=MRN-00042424&name=Zoë+Øster HTTP/1.1 referer https://portal.example.com/p/42',
    secrets: ['MRN-00042424', 'Zoë', 'Øster', 'portal.example.com'],
    kinds: ['MRN', 'NAME', 'URL'],
  },
  {
    line: 'seen by Dr. Okonkwo; client 10.0.3.11,2001:db8::7 mac 00:1a:2b:3c:4d:5e member id: XK-4412-99',
    secrets: ['Okonkwo', '10.0.3.11', '2001:db8::7', '00:1a:2b:3c:4d:5e', 'XK-4412-99'],
    kinds: ['NAME', 'IP', 'DEVICE', 'ACCOUNT'],
  },
  {
    line: '<134>1 2026-03-01T08:15:02Z ehr app - - [pt@1 ssn="987-65-4321"] Mrs. Jürgen Müller, 1234 Oak Street Apt 12, Springfield, IL 62701',
    secrets: ['987-65-4321', 'Jürgen', 'Müller', '1234 Oak Street', '62701'],
    kinds: ['SSN', 'NAME', 'ADDRESS'],
  },
];

const CLEAN = [
  '2026-03-01T08:15:02.120Z GET /api/v1/orders/77 200 1234 "Mozilla/5.0 (X11; Linux x86_64)"',
  'request took 25 ms. Server OK at 12:34:56 version 1.2.3 pid=4242 bytes=1048576',
  'Mar  1 08:15:02 web01 cron[311]: (root) CMD (run-parts /etc/cron.hourly)',
];

function rec(message: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    timestamp: '2026-03-01T08:15:02.120Z',
    level: 'info',
    severity: 9,
    format: 'text',
    message,
    ...extra,
  };
}

test('redact - removes every identifier from tricky lines across formats', () => {
  const r = createRedactor();
  for (const c of CASES) {
    const out = r.redactText(c.line).text;
    for (const s of c.secrets) assert.ok(!out.includes(s), `${s} leaked in: ${out}`);
    for (const k of c.kinds) assert.match(out, new RegExp(`\\[REDACTED:${k}\\]`), out);
  }
});

test('redact - leaves lines without identifiers unchanged', () => {
  const r = createRedactor();
  for (const line of CLEAN) assert.equal(r.redactText(line).text, line);
  const record = rec(CLEAN[0] as string);
  r.redactRecord(record);
  assert.equal(record.tags, undefined);
});

test('redact - scans nested fields and http, replaces identifier keys whole, tags the record', async () => {
  const r = createRedactor();
  const before = await metricValue('sluice_redact_matches_total', { kind: 'ip' });
  const record = rec('lab result ready', {
    http: { client_ip: '203.0.113.9', path: '/patients/MRN-55512345/chart', status: 200 },
    fields: {
      order: { patient: { name: 'Wei Nguyen', zip: 62701 }, notes: ['DOB: 1931-02-28'] },
      visits: 3,
    },
    tags: ['ehr'],
  });
  r.redactRecord(record);
  assert.equal(record.http?.client_ip, '[REDACTED:IP]');
  assert.equal(record.http?.path, '/patients/[REDACTED:MRN]/chart');
  const order = (record.fields?.order ?? {}) as Record<string, Record<string, unknown> | string[]>;
  assert.deepEqual(order.patient, { name: '[REDACTED:NAME]', zip: '[REDACTED:ZIP]' });
  assert.deepEqual(order.notes, ['DOB: [REDACTED:DATE]']);
  assert.equal(record.fields?.visits, 3);
  assert.equal(record.timestamp, '2026-03-01T08:15:02.120Z');
  assert.deepEqual(record.tags, ['ehr', 'redacted']);
  assert.equal(await metricValue('sluice_redact_matches_total', { kind: 'ip' }), before + 1);
});

test('redact - hash mode gives stable keyed pseudonyms that differ per key', () => {
  const dir = tempDir('sluice-redact-');
  try {
    const keyFile = join(dir.path, 'key');
    writeFileSync(keyFile, 'a-secret-key-of-enough-bytes\n', { mode: 0o600 });
    const key = readRedactKey(keyFile);
    const r = createRedactor({ mode: 'hash', key });
    const a = r.redactText('Patient John Smith called').text;
    const b = r.redactText('patient: JOHN  SMITH, discharged').text;
    const token = /\[NAME:[0-9a-f]{16}\]/.exec(a)?.[0];
    assert.ok(token, a);
    assert.ok(b.includes(token), `same person, same pseudonym: ${a} / ${b}`);
    const other = createRedactor({ mode: 'hash', key: Buffer.from('another-key-of-enough-bytes') });
    assert.ok(!other.redactText('Patient John Smith called').text.includes(token));
    chmodSync(keyFile, 0o644);
    assert.throws(() => readRedactKey(keyFile), /mode 644/);
    assert.throws(() => createRedactor({ mode: 'hash' }), /--redact-key/);
  } finally {
    dir.cleanup();
  }
});

test('redact - rules file adds patterns, keys and skips; bad rules fail at start', () => {
  const dir = tempDir('sluice-redact-');
  try {
    const file = join(dir.path, 'rules.yaml');
    writeFileSync(
      file,
      [
        'disable: [ip]',
        'patterns:',
        '  - kind: employee_id',
        "    pattern: 'EMP-\\d{6}'",
        '  - kind: room',
        "    pattern: '\\d{3}[A-Z]'",
        '    context: [room, bed]',
        'keys:',
        '  - { key: badgeCode, kind: badge }',
        'skip_keys: [request_ip, name]',
      ].join('\n'),
    );
    const r = createRedactor({ rules: loadRules(file) });
    const record = rec('EMP-123456 moved to room 412B from 10.0.0.1; code 412B', {
      fields: { badge_code: 'X1', request_ip: 'Patient John Smith', name: 'checkout' },
    });
    r.redactRecord(record);
    assert.equal(
      record.message,
      '[REDACTED:EMPLOYEE_ID] moved to room [REDACTED:ROOM] from 10.0.0.1; code 412B',
    );
    assert.deepEqual(record.fields, {
      badge_code: '[REDACTED:BADGE]',
      request_ip: 'Patient John Smith',
      name: 'checkout',
    });

    assert.throws(
      () => compileRules('r.yaml', { patterns: [{ kind: 'x', pattern: '(a+)+$' }] }),
      /nests quantifiers/,
    );
    assert.throws(
      () => compileRules('r.yaml', { patterns: [{ kind: 'x', pattern: '([a-' }] }),
      /patterns\[0\].*not a valid/,
    );
    assert.throws(
      () => compileRules('r.yaml', { patterns: [{ kind: 'Bad Kind', pattern: 'x' }] }),
      /patterns\.0\.kind/,
    );
    assert.throws(() => compileRules('r.yaml', { disable: ['nonsense'] }), /disable\.0/);
    assert.throws(() => compileRules('r.yaml', { unknown: 1 }), /r\.yaml/);
    writeFileSync(file, 'patterns: [unclosed');
    assert.throws(() => loadRules(file), /not valid YAML/);
  } finally {
    dir.cleanup();
  }
});

test('redact - linear time on long hostile input', () => {
  const r = createRedactor();
  const hostile = [
    'a'.repeat(50_000) + '@',
    'Patient ' + 'Aa '.repeat(20_000),
    '1'.repeat(50_000),
    ':'.repeat(30_000) + '1',
    'http://' + 'x'.repeat(50_000),
  ];
  const start = Date.now();
  for (const h of hostile) r.redactText(h);
  // Loose bound: quadratic behaviour on these inputs takes minutes, linear takes milliseconds.
  assert.ok(Date.now() - start < 5_000, `took ${Date.now() - start} ms`);
});
