// The byte-level access-log fast path (src/parse/access-bytes.ts) must not change a single
// output byte: the real CLI's output is compared with the general path's (framer, line parser,
// record encoder, no fast path) on the fixtures, the corpus, and generated lines with awkward
// bytes, under the options that change records.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLineParser, markTruncated } from '../../src/parse/line-parser.js';
import type { ParseOptions } from '../../src/parse/options.js';
import type { LogRecord } from '../../src/record/record.js';
import { NewlineFramer } from '../../src/framing/newline.js';
import type { ByteLineTaker } from '../../src/framing/newline.js';
import { RecordBytesWriter } from '../../src/record/json-bytes.js';
import { ParseStats, TopCounter } from '../../src/parse/stats.js';
import { fixture, runCli, tempDir } from '../helpers.js';

const NOW = '2026-03-01T12:00:00Z';
const NOW_MS = Date.parse(NOW);

/** What `sluice parse` printed before the fast path: the general path, chunk by chunk. */
function generalOutput(input: Buffer, opts: ParseOptions, chunkBytes = 1 << 20): Buffer {
  const parser = createLineParser({ ...opts, now: NOW_MS });
  const out: Buffer[] = [];
  const writer = new RecordBytesWriter((c) => void out.push(Buffer.from(c)));
  const framer = new NewlineFramer({ maxLineBytes: opts.maxLineBytes });
  const recs: LogRecord[] = [];
  const onLine = (line: string, truncated: boolean) => {
    parser.push(line, recs);
    if (truncated) for (const r of recs) markTruncated(r);
    for (const r of recs) writer.add(r);
    recs.length = 0;
  };
  for (let i = 0; i < input.length; i += chunkBytes) {
    framer.push(input.subarray(i, i + chunkBytes), onLine);
  }
  framer.end(onLine);
  parser.flush(recs);
  for (const r of recs) writer.add(r);
  const rest = writer.take();
  if (rest !== undefined) out.push(Buffer.from(rest));
  return Buffer.concat(out);
}

/** What `sluice parse --stats --output json` printed before the fast path, without timings. */
function generalStats(files: string[]): Record<string, unknown> {
  const stats = new ParseStats();
  for (const file of files) {
    const input = readFileSync(file);
    const parser = createLineParser({ now: NOW_MS, source: file });
    const framer = new NewlineFramer();
    const recs: LogRecord[] = [];
    let lineNo = 0;
    const onLine = (line: string, truncated: boolean) => {
      lineNo++;
      if (!truncated && stats.addAccessLine(line)) return;
      parser.push(line, recs);
      for (const r of recs) stats.add(r, lineNo, file);
      recs.length = 0;
    };
    framer.push(input, onLine);
    framer.end(onLine);
    parser.flush(recs);
    for (const r of recs) stats.add(r, lineNo, file);
    stats.lines += lineNo;
    stats.bytes += input.length;
  }
  return withoutTimings(stats.report(10) as unknown as Record<string, unknown>);
}

function withoutTimings(r: Record<string, unknown>): Record<string, unknown> {
  for (const k of ['elapsed_ms', 'lines_per_second', 'bytes_per_second']) delete r[k];
  return r;
}

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

const CLIENTS = [
  '192.0.2.7',
  '2001:db8::1',
  'example.org',
  '10.0.0.1',
  '"quoted"',
  'é.example',
  '-',
];
const IDENTS = ['-', 'ident', '[x', ''];
const USERS = ['-', 'frank', 'a\\b', '[y', '-x'];
const TIMES = [
  '01/Jan/2024:00:00:00 +0000',
  '01/Jan/2024:00:00:00 +0000',
  '12/Mar/2023:14:06:00 +0200',
  '31/dec/1999:23:59:59 -0930',
  '29/Feb/2023:10:00:00 +0000',
  '01/Jan/0000:00:30:00 +0100',
  '31/Dec/9999:23:59:59 -0100',
  '10/Oct/2000:13:55:60 -0700',
  '10/Foo/2000:13:55:36 -0700',
  '1/Oct/2000:13:55:36 -0700',
  '10/Oct/2000X13:55:36 -0700',
  '10/Oct/2000:13:55:36 +0000]x',
];
const REQUESTS = [
  'GET /index.html HTTP/1.1',
  'GET /search?q=logs&page=2 HTTP/1.1',
  'GET /? HTTP/1.0',
  'GET ?x HTTP/1.0',
  'POST /api/v1/items/42 HTTP/2.0',
  'GET /http09',
  'GET /a b c',
  'GET  HTTP/1.1',
  'get /lower HTTP/1.1',
  'M-SEARCH * HTTP/1.1',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1',
  '-',
  '',
  'GET /esc\\"aped HTTP/1.1',
  'GET /back\\\\slash HTTP/1.1',
  '\\x16\\x03\\x01\\x00',
  'GET /caf\u00e9 HTTP/1.1',
  'GET /tab\there HTTP/1.1',
  ' GET /lead HTTP/1.1',
  'GET /trail HTTP/1.1 ',
  'GET /x HTTP/',
];
const STATUSES = ['200', '404', '503', '-', '0', '999', '0200', '1234567890', '20x', '-5'];
const SIZES = ['0', '-', '512', '123456789', '1234567890', '00', '-1'];
const REFERRERS = ['-', '', 'https://example.com/start', 'a "q" b', 'x\\"y', '\u00fcber'];
const AGENTS = [
  '-',
  '',
  'curl/8.4.0',
  'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101',
  'x\u0001y',
];
const OTHER_LINES = [
  '<34>Oct 11 22:14:15 mymachine su[12]: su root failed on /dev/pts/8',
  '{"level":30,"time":1700000000000,"msg":"hello","pid":1}',
  'time="2024-01-01T00:00:00Z" level=info msg="x y" k=v',
  '2024-01-01T00:00:00.000000000Z stdout F 192.0.2.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1',
  '2024-01-01T00:00:00.000000000Z stdout P partial ',
  '2024/01/01 00:00:00 [error] 12#12: *9 open() failed, client: 192.0.2.9, server: x',
  '[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 12:tid 34] [client 192.0.2.1:5555] AH00123: x',
  'plain text line',
  '',
  '   ',
];

/** One access line put together from the pools above, sometimes with an awkward tail. */
function accessLine(r: () => number): string {
  const combined = r() < 0.7;
  let line =
    `${r() < 0.9 ? '192.0.2.' + Math.floor(r() * 255) : pick(r, CLIENTS)} ` +
    `${r() < 0.85 ? '-' : pick(r, IDENTS)} ${r() < 0.8 ? '-' : pick(r, USERS)} ` +
    `[${r() < 0.8 ? TIMES[0] : pick(r, TIMES)}] "${r() < 0.6 ? REQUESTS[0] : pick(r, REQUESTS)}" ` +
    `${r() < 0.7 ? '200' : pick(r, STATUSES)} ${r() < 0.7 ? '512' : pick(r, SIZES)}`;
  if (combined) {
    line += ` "${pick(r, REFERRERS)}"`;
    if (r() < 0.9) line += ` "${r() < 0.7 ? AGENTS[2] : pick(r, AGENTS)}"`;
  }
  const tail = r();
  if (tail < 0.03) line += ' extra=1';
  else if (tail < 0.05) line += ' ';
  else if (tail < 0.07) line = 'vhost.example ' + line;
  else if (tail < 0.09) line = '203.0.113.9, ' + line;
  return line;
}

/** A plain access line the fast path takes. */
function plainLine(r: () => number, i: number): string {
  const t = `0${1 + (i % 9)}/Feb/2025:0${i % 10}:1${i % 6}:0${i % 10} +0000`;
  const ref = r() < 0.5 ? '"-" "curl/8.4.0"' : '"https://example.com/" "Mozilla/5.0 (X11)"';
  return `10.1.${i % 250}.${i % 7} - - [${t}] "GET /p/${Math.floor(r() * 1e6)} HTTP/1.1" 200 ${i} ${ref}`;
}

/**
 * Generated input: access lines (awkward ones among them), other formats between, awkward
 * line endings; with `plainShare`, that share of lines is plain access lines (so that chunks
 * are shared with the worker thread, which takes effect when nearly all lines are plain).
 */
function generated(seed: number, lines: number, plainShare = 0): Buffer {
  const r = rng(seed);
  const parts: Buffer[] = [];
  if (seed % 2 === 1) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  for (let i = 0; i < lines; i++) {
    if (r() < plainShare) {
      parts.push(Buffer.from(plainLine(r, i) + '\n'));
      continue;
    }
    const k = r();
    const text = k < 0.85 ? accessLine(r) : pick(r, OTHER_LINES);
    parts.push(Buffer.from(text, 'utf8'));
    const e = r();
    if (e < 0.02) parts.push(Buffer.from([0xff, 0xfe]));
    else if (e < 0.03) parts.push(Buffer.from([0xc3]));
    parts.push(Buffer.from(e > 0.97 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

/** Files of the fixtures: corpus files and every case's input. */
function fixtureFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/\.(md|tsv|json)$/.test(name)) files.push(p);
    }
  };
  walk(fixture('corpus'));
  walk(fixture('cases'));
  return files.sort();
}

async function assertSameAsGeneral(files: string[], flags: string[], opts: ParseOptions) {
  const r = await runCli(['parse', '--now', NOW, ...flags, ...files], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const expected = files
    .map((f) => generalOutput(readFileSync(f), { ...opts, source: f }).toString('utf8'))
    .join('');
  const got = r.stdout.split('\n');
  const want = expected.split('\n');
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    assert.equal(got[i], want[i], `line ${i + 1} of the output with ${flags.join(' ')}`);
  }
}

test('access-bytes - fixtures and corpus give the general path output byte for byte', async () => {
  const files = fixtureFiles();
  assert.ok(files.length > 10);
  await assertSameAsGeneral(files, [], {});
  await assertSameAsGeneral(files, ['--keep-raw'], { keepRaw: true });
});

test('access-bytes - generated awkward lines under every option the fast path meets', async () => {
  const dir = tempDir();
  try {
    // The last file spans several chunks of mostly plain access lines, so that the worker
    // thread takes part.
    const files = [1, 2, 3].map((seed) => {
      const p = join(dir.path, `gen-${seed}.log`);
      writeFileSync(p, seed === 3 ? generated(seed, 16000, 0.97) : generated(seed, 3000));
      return p;
    });
    const cases: Array<[string[], ParseOptions]> = [
      [[], {}],
      [['--keep-raw'], { keepRaw: true }],
      [['--format', 'apache_combined'], { format: 'apache_combined' }],
      [['--format', 'apache_common', '--keep-raw'], { format: 'apache_common', keepRaw: true }],
      [
        ['--timezone', 'Europe/Paris', '--assume-year', '2020'],
        {
          timezone: 'Europe/Paris',
          assumeYear: 2020,
        },
      ],
      [['--max-line-bytes', '120'], { maxLineBytes: 120 }],
      [['--format', 'syslog_rfc3164'], { format: 'syslog_rfc3164' }],
    ];
    for (const [flags, opts] of cases) await assertSameAsGeneral(files, flags, opts);
  } finally {
    dir.cleanup();
  }
});

test('access-bytes - --stats gives the statistics of the string path', async () => {
  const dir = tempDir();
  try {
    const gen = [11, 12].map((seed) => {
      const p = join(dir.path, `gen-${seed}.log`);
      writeFileSync(p, seed === 12 ? generated(seed, 16000, 0.97) : generated(seed, 4000));
      return p;
    });
    for (const files of [fixtureFiles(), gen]) {
      const r = await runCli(['parse', '--stats', '--output', 'json', '--now', NOW, ...files]);
      assert.equal(r.code, 0, r.stderr);
      const got = withoutTimings(JSON.parse(r.stdout) as Record<string, unknown>);
      assert.deepEqual(got, generalStats(files));
    }
  } finally {
    dir.cleanup();
  }
});

test('access-bytes - top counters give the same counts for bytes and strings', () => {
  const r = rng(3);
  const values = Array.from({ length: 300 }, (_, i) =>
    i % 17 === 0 ? `n\u00e9-${i}` : i % 29 === 0 ? '' : `10.0.${i % 13}.${i}`,
  );
  for (const capacity of [5, 50, 1000]) {
    const strings = new TopCounter(capacity);
    const mixed = new TopCounter(capacity);
    for (let n = 0; n < 5000; n++) {
      const v = values[Math.floor(values.length * r() ** 2)];
      strings.add(v);
      if (r() < 0.5 && !/[^\x00-\x7f]/.test(v)) {
        const buf = Buffer.from(`xx${v}yy`, 'latin1');
        mixed.addBytes(buf, 2, buf.length - 2);
      } else mixed.add(v);
    }
    assert.deepEqual(mixed.top(1000), strings.top(1000), `capacity ${capacity}`);
    assert.equal(mixed.approximate, strings.approximate);
  }
});

test('access-bytes - standard input (no source) and a file of plain access lines', async () => {
  const r0 = rng(7);
  const plain = Array.from({ length: 5000 }, (_, i) => plainLine(r0, i)).join('\n');
  const input = Buffer.from(plain + '\n' + generated(4, 500).toString('latin1'), 'latin1');
  const r = await runCli(['parse', '--now', NOW], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, generalOutput(input, {}).toString('utf8'));
});

test('access-bytes - framer with a taker keeps input order across chunk boundaries', () => {
  const input = generated(5, 400);
  // A taker that takes lines starting with a digit, as bytes, in the order it is asked to.
  const expected: string[] = [];
  const plain = new NewlineFramer();
  const sink = (l: string) => void expected.push(l);
  plain.push(input, sink);
  plain.end(sink);
  for (const chunkBytes of [1, 7, 64, 1000, 1 << 20]) {
    const got: string[] = [];
    let at = -1;
    const taker: ByteLineTaker = {
      scan(buf, start) {
        const c = buf[start];
        if (c < 48 || c > 57) return -1;
        at = buf.indexOf(10, start);
        // CR is the framer's to strip: such lines stay with it.
        return buf[at - 1] === 13 ? -1 : at;
      },
      take(buf, start, end) {
        assert.equal(end, at);
        if (buf[start + 1] === 48) return false;
        got.push(buf.toString('utf8', start, end));
        return true;
      },
    };
    const framer = new NewlineFramer({ taker });
    const to = (l: string) => void got.push(l);
    for (let i = 0; i < input.length; i += chunkBytes) {
      framer.push(input.subarray(i, i + chunkBytes), to);
    }
    framer.end(to);
    assert.deepEqual(got, expected, `chunks of ${chunkBytes} bytes`);
    assert.equal(framer.lines, expected.length);
  }
});
