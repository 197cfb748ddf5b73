// `sluice query` end to end: every filter and output against answers computed by hand (with
// awk/grep, shown beside each) on corpus files, gzip and standard input, the store, escaping of
// hostile data, colour switches and exit codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixture, runCli, tempDir } from '../helpers.js';
import { createLineParser } from '../../src/parse/line-parser.js';
import type { LogRecord } from '../../src/record/record.js';
import { openStoreWriter } from '../../src/store/index.js';
import { SPLIT_MIN_BYTES } from '../../src/query/read.js';

const ACCESS = fixture('corpus', 'elastic-examples', 'apache_logs_head.log');
const ACCESS_LINES = readFileSync(ACCESS, 'utf8').split('\n').filter(Boolean);

async function query(args: string[], input?: string | Buffer) {
  const r = await runCli(['query', ...args], { input });
  return { ...r, lines: r.stdout.split('\n').filter((l) => l.length > 0) };
}

async function count(args: string[]): Promise<number> {
  const r = await query([...args, '--count']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return Number(r.stdout.trim());
}

/** Access lines whose request (the text between the first two quotes) matches. */
function inRequest(re: RegExp): number {
  return ACCESS_LINES.filter((l) => re.test(l.split('"')[1])).length;
}

test('query cli - counts with each filter on an access log', async () => {
  const favicon4xx = ACCESS_LINES.filter((l) => / 40\d /.test(l) && l.includes('GET /favicon.ico'));
  const window = ['--since', '2015-05-17T12:00:00Z', '--until', '2015-05-17T13:00:00Z'];
  const cases: Array<[string[], number, string]> = [
    [[], 1734, 'wc -l'],
    [['--where', 'http.status >= 400'], 33, "awk '$9 >= 400' (the file has no 5xx)"],
    [['--level', 'warn'], 33, 'access logs: 4xx is warn'],
    [['--level', 'error'], 0, 'no 5xx'],
    [['--where', 'http.status = 404 and http.method = GET'], 33, 'awk \'$9==404 && $6=="\\"GET"\''],
    [['--grep', 'kibana'], 22, "awk -F'\"' '{print $2}' | grep -c kibana"],
    [['--grep', 'KIBANA', '-i'], 22, 'the same, ignoring case'],
    [['--grep', 'KIBANA'], 0, 'case matters without -i'],
    [['--grep', 'GET', '-v'], 7, "awk -F'\"' '{print $2}' | grep -vc GET"],
    // A literal found in the referrer only is not a match: --grep reads the request (message).
    [['--grep', 'semicomplete.com'], inRequest(/semicomplete\.com/), "awk -F'\"' '{print $2}'"],
    [['--grep', 'kibana|favicon'], inRequest(/kibana|favicon/), 'an alternation, not a literal'],
    [window, 115, "grep -c '17/May/2015:12:'"],
    [['--level', 'warn', '--grep', 'kibana'], 0, 'no 4xx request for kibana pages'],
    [
      ['--level', 'warn', '--where', 'http.path = "/favicon.ico"'],
      favicon4xx.length,
      'filters combine',
    ],
  ];
  const got = await Promise.all(cases.map(([args]) => count([ACCESS, ...args])));
  cases.forEach(([args, want, how], i) => assert.equal(got[i], want, `${args.join(' ')}: ${how}`));
});

test('query cli - level filter on error logs, logfmt and bunyan JSON', async () => {
  const nginx = fixture('corpus', 'beats-filebeat', 'nginx-error.log');
  const logfmt = fixture('corpus', 'lnav', 'logfile_logfmt.0');
  const bunyan = fixture('corpus', 'lnav', 'logfile_bunyan.0');
  const cases: Array<[string[], number, string]> = [
    [[nginx, '--level', 'error'], 4, "grep -c '\\[error\\]'"],
    [[logfmt, '--level', 'warn'], 3, 'level=error twice, level=warning once'],
    [[logfmt, '--level', 'error'], 2, 'level=error twice'],
    [[bunyan, '--level', 'info'], 1, '"level":30 once'],
    [[bunyan, '--where', 'level = debug'], 9, '"level":20 nine times'],
  ];
  const got = await Promise.all(cases.map(([args]) => count(args)));
  cases.forEach(([args, want, how], i) => assert.equal(got[i], want, `${args.join(' ')}: ${how}`));
});

test('query cli - json output is the normalized record; --limit stops early', async () => {
  const r = await query([ACCESS, '-o', 'json', '--limit', '2']);
  assert.equal(r.code, 0);
  assert.equal(r.lines.length, 2);
  const first = JSON.parse(r.lines[0]);
  assert.equal(first.timestamp, '2015-05-17T10:05:03.000Z');
  assert.equal(first.http.status, 200);
  assert.equal(first.http.client_ip, '83.149.9.216');
  assert.equal(first.format, 'apache_combined');
  assert.equal(first.source, ACCESS);
});

test('query cli - raw output prints the original lines', async () => {
  const r = await query([ACCESS, '-o', 'raw', '--where', 'http.status = 404']);
  assert.deepEqual(
    r.lines,
    ACCESS_LINES.filter((l) => l.split(' ')[8] === '404'),
  );
});

test('query cli - text output is aligned; --fields picks columns', async () => {
  const r = await query([ACCESS, '--limit', '3']);
  assert.equal(r.lines.length, 3);
  assert.match(
    r.lines[0],
    /^2015-05-17T10:05:03\.000Z INFO {5}83\.149\.9\.216 200 GET \/presentations/,
  );
  const starts = r.lines.map((l) => l.indexOf(' 200 GET'));
  assert.equal(new Set(starts).size, 1, 'the message column lines up');
  const f = await query([ACCESS, '--fields', 'timestamp,http.status,http.path,nope', '-n', '1']);
  assert.deepEqual(f.lines, [
    '2015-05-17T10:05:03.000Z\t200\t/presentations/logstash-monitorama-2013/images/kibana-search.png\t-',
  ]);
  const j = await query([ACCESS, '--fields', 'http.status,level', '-o', 'json', '-n', '1']);
  assert.deepEqual(JSON.parse(j.lines[0]), { 'http.status': 200, level: 'info' });
});

test('query cli - stats, top and histogram as one JSON document', async () => {
  const r = await query([
    ACCESS,
    '--stats',
    '--top',
    'http.path',
    '--top',
    'http.method',
    '--top-limit',
    '3',
    '--histogram',
    '1h',
    '-o',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.matched, 1734);
  assert.deepEqual(doc.levels, {
    trace: 0,
    debug: 0,
    info: 1701,
    notice: 0,
    warn: 33,
    error: 0,
    critical: 0,
  });
  // awk -F'"' '{split($2,a," "); print a[2]}' | sed 's/?.*//' | sort | uniq -c | sort -rn
  // (ties, /reset.css and /style2.css with 98 each, are ordered by value)
  assert.deepEqual(
    doc.top['http.path'].values.map((v: { value: string; count: number }) => [v.value, v.count]),
    [
      ['/favicon.ico', 129],
      ['/', 109],
      ['/reset.css', 98],
    ],
  );
  assert.equal(doc.top['http.path'].approximate, false);
  assert.equal(doc.top['http.path'].values[0].share, Math.round((129 / 1734) * 10000) / 10000);
  assert.equal(doc.histogram.bucket_ms, 3_600_000);
  // grep -c '17/May/2015:10:'
  assert.deepEqual(doc.histogram.buckets[0], { start: '2015-05-17T10:00:00.000Z', count: 74 });
  const total = doc.histogram.buckets.reduce((a: number, b: { count: number }) => a + b.count, 0);
  assert.equal(total, 1734);
});

test('query cli - stats as text with bars', async () => {
  const r = await query([ACCESS, '--stats', '--histogram', '6h']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^matched: 1734$/m);
  assert.match(r.stdout, /^warn\s+33\s+1\.9%$/m);
  assert.match(r.stdout, /^2015-05-17T06:00:00\.000Z\s+\d+ █+$/m);
});

test('query cli - gzip input (by content) and standard input give the same answers', async () => {
  const dir = tempDir();
  try {
    const gz = join(dir.path, 'access.log.1');
    writeFileSync(gz, gzipSync(readFileSync(ACCESS)));
    assert.equal(await count([gz, '--where', 'http.status >= 400']), 33);
    assert.equal(await count([gz]), 1734);
    const r = await query(['--count', '--grep', 'kibana'], readFileSync(ACCESS));
    assert.equal(r.stdout.trim(), '22');
    const last = await query(['-', '-o', 'raw'], 'no newline at the end');
    assert.deepEqual(last.lines, ['no newline at the end']);
  } finally {
    dir.cleanup();
  }
});

test('query cli - exit codes like grep: 0 matched, 1 none, 2 error', async () => {
  assert.equal((await query([ACCESS, '--grep', 'kibana', '-c'])).code, 0);
  assert.equal((await query([ACCESS, '--grep', 'no-such-text-anywhere'])).code, 1);
  const missing = await query(['/no/such/file.log']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\/no\/such\/file\.log: no such file/);
  const bad = await query([ACCESS, '--where', 'http.status >= 500 and']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--where: expected a field name/);
  assert.match(bad.stderr, /\n {2}http\.status >= 500 and\n {24}\^/);
  const level = await query([ACCESS, '--level', 'loud']);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /--level: "loud" is not one of/);
  const since = await query([ACCESS, '--since', 'yesterday-ish']);
  assert.equal(since.code, 2);
  assert.match(since.stderr, /--since/);
  const redos = await query([ACCESS, '--grep', '(a+)+$']);
  assert.equal(redos.code, 2);
  assert.match(redos.stderr, /exponential/);
});

test('query cli - hostile control characters never reach the terminal (B8, B9)', async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'evil.log');
    const lines = [
      JSON.stringify({ level: 'error', msg: 'clear \u001b[2J screen' }),
      JSON.stringify({ level: 'error', msg: 'osc52 \u001b]52;c;ZXZpbA==\u0007 bell' }),
      JSON.stringify({ level: 'error', msg: 'c1 \u009b31m \u009d0;t\u009c nul \u0000 cr \r x' }),
      JSON.stringify({ level: 'error', msg: 'forged\n2025-01-01 INFO admin login ok' }),
      JSON.stringify({ level: 'error', msg: 'sep \u2028 bidi \u202e' }),
      '2026-03-01T00:00:00Z ERROR raw \u001b[31mred\u001b[0m and \u0007 bell',
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const checks: Array<[string[], Record<string, string>]> = [
      [['-o', 'text'], {}],
      [['-o', 'color'], {}],
      [[], { NO_COLOR: '', FORCE_COLOR: '1' }],
      [['-o', 'json'], {}],
      [['--fields', 'message'], {}],
      [['--top', 'message'], {}],
    ];
    for (const [args, env] of checks) {
      const r = await runCli(['query', file, '--level', 'error', ...args], { env });
      assert.equal(r.code, 0, r.stderr);
      // Our own colour codes are the only escape sequences allowed.
      const out = Buffer.from(r.stdout.replace(/\u001b\[[0-9;]*m/g, ''), 'utf8').toString('latin1');
      for (let i = 0; i < out.length; i++) {
        const c = out.charCodeAt(i);
        const bad = (c < 0x20 && c !== 10) || c === 0x7f;
        assert.ok(!bad, `${args.join(' ')}: byte 0x${c.toString(16)} at ${i} in ${r.stdout}`);
      }
      assert.ok(!/[\u0080-\u009f\u2028\u202e]/.test(r.stdout.replace(/\u001b\[[0-9;]*m/g, '')));
      if (!args.includes('--top')) {
        assert.equal(r.stdout.split('\n').filter(Boolean).length, lines.length, 'one line each');
      }
    }
  } finally {
    dir.cleanup();
  }
});

test('query cli - colour: default off when piped, FORCE_COLOR on, NO_COLOR wins', async () => {
  const ansi = /\u001b\[/;
  const plain = await runCli(['query', ACCESS, '-n', '1'], { env: { NO_COLOR: '' } });
  assert.doesNotMatch(plain.stdout, ansi);
  const forced = await runCli(['query', ACCESS, '-n', '1'], {
    env: { NO_COLOR: '', FORCE_COLOR: '1' },
  });
  assert.match(forced.stdout, ansi);
  const both = await runCli(['query', ACCESS, '-n', '1'], {
    env: { NO_COLOR: '1', FORCE_COLOR: '1' },
  });
  assert.doesNotMatch(both.stdout, ansi);
  const explicit = await runCli(['query', ACCESS, '-n', '1', '-o', 'color'], {
    env: { NO_COLOR: '1' },
  });
  assert.match(explicit.stdout, ansi);
});

test('query cli - the store gives the same answers as the file it was filled from', async () => {
  const dir = tempDir();
  try {
    const store = join(dir.path, 'store');
    const parser = createLineParser({ now: Date.now(), source: ACCESS });
    const records: LogRecord[] = [];
    for (const line of ACCESS_LINES) parser.push(line, records);
    const writer = await openStoreWriter(store);
    for (let i = 0; i < records.length; i += 200) await writer.append(records.slice(i, i + 200));
    await writer.close();
    const variants = [
      ['--where', 'http.status >= 400'],
      ['--grep', 'kibana'],
      ['--grep', 'GET', '-v'],
      ['--level', 'warn'],
      ['--since', '2015-05-17T12:00:00Z', '--until', '2015-05-17T13:00:00Z'],
      ['--where', 'http.path = "/favicon.ico"'],
    ];
    const results = await Promise.all(
      variants.map((v) =>
        Promise.all([
          query([ACCESS, '-o', 'json', ...v]),
          query(['--store', store, '-o', 'json', ...v]),
        ]),
      ),
    );
    for (const [i, v] of variants.entries()) {
      const [fromFile, fromStore] = results[i];
      assert.equal(fromStore.code, fromFile.code, v.join(' '));
      assert.ok(fromFile.lines.length > 0);
      // The store keeps records in time order; the file has a few out of order.
      const sorted = (lines: string[]) => [...lines].sort();
      assert.deepEqual(sorted(fromStore.lines), sorted(fromFile.lines), v.join(' '));
    }
    const stats = await query(['--store', store, '--stats', '-o', 'json']);
    assert.equal(JSON.parse(stats.stdout).matched, 1734);
  } finally {
    dir.cleanup();
  }
});

test('query cli - a large file counted in two halves gives the answer of one pass', async () => {
  // Above SPLIT_MIN_BYTES a literal count on an access log reads its second half on a worker
  // thread; hits it cannot decide there (an escape, a line of another format) come back.
  const dir = tempDir();
  try {
    const file = join(dir.path, 'big.log');
    const plain = (i: number, path: string) =>
      `10.0.${i % 250}.1 - - [01/Mar/2026:00:00:${String(i % 60).padStart(2, '0')} +0000] ` +
      `"GET ${path} HTTP/1.1" 200 ${i % 9000} "https://x.example/checkout" "agent/1.0"\n`;
    const chunks: string[] = [];
    let want = 0;
    for (let i = 0; i < 600_000; i++) {
      if (i % 4999 === 0) {
        chunks.push(`2026-03-01T00:00:00Z ERROR checkout text line ${i}\n`);
        want++; // a text line: its message is the whole line
      } else if (i % 5003 === 0) {
        chunks.push(plain(i, '/checkout\\"q').replace('\\"', '\\\\"'));
        want++; // an escaped quote in the request: read by the parser
      } else if (i % 7 === 0) {
        chunks.push(plain(i, '/checkout/confirm'));
        want++;
      } else chunks.push(plain(i, '/index.html')); // the literal only in the referrer
    }
    writeFileSync(file, chunks.join(''));
    assert.ok(statSync(file).size > SPLIT_MIN_BYTES, 'the file is large enough to be split');
    const r = await query([file, '--grep', 'checkout', '--count']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), want);
    const raw = await query([file, '--grep', 'checkout', '-o', 'raw']);
    assert.equal(raw.lines.length, want, 'printing (one pass, in order) gives the same count');
  } finally {
    dir.cleanup();
  }
});

test('query cli - --level on a big NDJSON file: two threads print what one pass does', async () => {
  // Above SPLIT_MIN_BYTES a --level query lets a worker pick candidate lines of chunks from the
  // file's end while the main thread prints in order; --limit turns the split off.
  const dir = tempDir();
  try {
    const file = join(dir.path, 'big.ndjson');
    // About 2% of the lines match, as in a real log.
    const levelOf = (i: number) =>
      ['error', 'ERROR', 'fatal', 'warn'][i % 193] ?? (i % 7 === 0 ? 'debug' : 'info');
    // Every line has a time: a record without one would be stamped with the time of the run.
    const odd = [
      '{"level":"info","msg":"escaped \\"error\\" here"}',
      '{"level":"info","msg":"non-ASCII érror ✓"}',
      '{"level":"debug","ctx":{"level":"error"}}',
      '{"severity":"error","msg":"another key"}',
      '{"level":50,"msg":"pino error"}',
      '{"level":"info","msg":"crlf"}\r',
      '2026-03-01T00:00:00Z ERROR a text line among JSON',
      '{"level":"info" "broken": true}',
      '{"level":"warn","msg":"tab\\tand\\u0041 escape"}',
    ].map((l) => l.replace(/^\{/, '{"time":"2026-03-01T00:00:00Z",'));
    const chunks: string[] = [];
    for (let i = 0; i < 560_000; i++) {
      if (i % 997 === 0) chunks.push(odd[(i / 997) % odd.length] + '\n');
      else {
        const level = levelOf(i);
        const t = new Date(Date.UTC(2026, 2, 1) + i * 10).toISOString();
        chunks.push(
          JSON.stringify({
            time: t,
            level,
            service: 'api',
            msg: `event ${i} of a test run`,
            path: '/api/v1/items?page=2',
            n: i,
          }) + '\n',
        );
      }
    }
    writeFileSync(file, chunks.join(''));
    assert.ok(statSync(file).size > SPLIT_MIN_BYTES, 'the file is large enough to be split');
    const split = await runCli(['query', file, '--level', 'warn', '-o', 'json']);
    const onePass = await runCli(['query', file, '--level', 'warn', '-o', 'json', '-n', '1e9']);
    assert.equal(split.code, 0, split.stderr);
    assert.ok(split.stdout.split('\n').length > 10_000, 'about 2% of the lines match');
    assert.ok(split.stdout === onePass.stdout, 'the outputs differ');
  } finally {
    dir.cleanup();
  }
});
