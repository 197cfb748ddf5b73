import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OctetCountingFramer } from '../../src/framing/octet.js';
import { detectFraming, registerProtocol } from '../../src/framing/detect.js';
import { ProtocolError } from '../../src/errors.js';
import { RateLimiter, parseRate } from '../../src/transforms/rate-limit.js';
import { createLevelFilter } from '../../src/transforms/level-filter.js';
import { TopTalkers } from '../../src/net/top-talkers.js';
import { encodeBatch } from '../../src/store/encode.js';
import { encodeRecord } from '../../src/record/json.js';
import type { LogRecord } from '../../src/record/record.js';

function frames(input: Buffer, cuts: number[], max = 1024): string[] {
  const f = new OctetCountingFramer({ maxFrameBytes: max });
  const out: string[] = [];
  let at = 0;
  for (const c of [...cuts, input.length]) {
    f.push(input.subarray(at, c), (b) => out.push(b.toString('utf8')));
    at = c;
  }
  f.end((b) => out.push(b.toString('utf8')));
  return out;
}

test('serve - octet framer gives the same frames for every split point', () => {
  const msgs = ['<14>1 - h a - - - one', '<11>1 - h a - - - zwei ü\nzeile', '<13>x'];
  const input = Buffer.concat(msgs.map((m) => Buffer.from(`${Buffer.byteLength(m)} ${m}`, 'utf8')));
  for (let cut = 1; cut < input.length; cut++) {
    assert.deepEqual(frames(input, [cut]), msgs, `split at ${cut}`);
  }
});

test('serve - octet framer reads newline-framed syslog frames mixed in', () => {
  const input = Buffer.from('5 <1>ab<2>line two\n<3>last without newline');
  assert.deepEqual(frames(input, [3, 12]), ['<1>ab', '<2>line two', '<3>last without newline']);
});

test('serve - octet framer rejects oversized and malformed length prefixes', () => {
  const bad = ['2147483648 <1>x', '9'.repeat(1000) + ' <', '12x <1>', ' 5 <1>ab', 'abc'];
  for (const text of bad) {
    assert.throws(() => frames(Buffer.from(text), [], 4096), ProtocolError, text.slice(0, 20));
  }
  assert.throws(() => frames(Buffer.from('5000 <1>'), [], 4096), /4096-byte limit/);
});

test('serve - octet framer reports a frame cut short at end of stream', () => {
  assert.throws(() => frames(Buffer.from('10 <1>ab'), []), /cut short/);
});

test('serve - framing detection from first bytes', () => {
  const kind = (s: string, final = false) => {
    const d = detectFraming(Buffer.from(s, 'latin1'), final);
    return d.kind === 'builtin' ? d.framing : d.kind;
  };
  assert.equal(kind('{"a":1}'), 'ndjson');
  assert.equal(kind('  {"a":1}'), 'ndjson');
  assert.equal(kind('123 <34>1 '), 'octet');
  assert.equal(kind('12'), 'more');
  assert.equal(kind('12', true), 'text');
  assert.equal(kind('<34>Oct 11'), 'syslog');
  assert.equal(kind('<3'), 'more');
  assert.equal(kind('<html>'), 'text');
  assert.equal(kind('2024-01-01 hello'), 'text');
  assert.equal(kind('hello world'), 'text');
  assert.equal(kind('\x16\x03\x01\x02'), 'reject');
  assert.equal(kind('\x00\x00'), 'reject');
});

test('serve - a registered protocol claims connections by its magic bytes', () => {
  registerProtocol({ name: 'test-magic', magic: Buffer.from('ZQX!'), handle: () => undefined });
  const d = detectFraming(Buffer.from('ZQX!rest'));
  assert.equal(d.kind === 'protocol' && d.protocol.name, 'test-magic');
  assert.equal(detectFraming(Buffer.from('ZQ')).kind, 'more');
  const fallback = detectFraming(Buffer.from('ZQ'), true);
  assert.equal(fallback.kind === 'builtin' && fallback.framing, 'text');
});

test('serve - token bucket: burst, then the rate, per address, with CIDR overrides', () => {
  const rl = new RateLimiter({
    defaultRule: { ratePerSec: 100, burst: 50 },
    overrides: [
      { cidr: '10.0.0.0/8', ratePerSec: 1000, burst: 1000 },
      { cidr: '10.1.0.0/16', ratePerSec: Infinity, burst: Infinity },
    ],
  });
  const t0 = 1_000_000;
  assert.deepEqual(rl.take('192.0.2.1', 80, 'drop', t0), { granted: 50, waitMs: 0 });
  assert.equal(rl.take('192.0.2.1', 80, 'drop', t0 + 500).granted, 50);
  assert.equal(rl.take('::ffff:192.0.2.2', 10, 'drop', t0).granted, 10);
  assert.equal(rl.take('10.2.3.4', 900, 'drop', t0).granted, 900);
  assert.equal(rl.take('10.1.3.4', 1e6, 'drop', t0).granted, 1e6);
  const slow = rl.take('192.0.2.3', 150, 'slow', t0);
  assert.equal(slow.granted, 150);
  assert.equal(slow.waitMs, 1000);
  assert.throws(
    () => new RateLimiter({ overrides: [{ cidr: '10.0.0.0/40', ratePerSec: 1, burst: 1 }] }),
  );
});

test('serve - a reload keeps every client bucket, capped at its new burst', () => {
  const rule = { ratePerSec: 100, burst: 100 };
  const rl = new RateLimiter({ defaultRule: rule });
  const t0 = 1_000_000;
  assert.equal(rl.take('192.0.2.1', 100, 'drop', t0).granted, 100); // bucket emptied
  assert.equal(rl.take('192.0.2.2', 10, 'drop', t0).granted, 10); // 90 left
  // 100 ms later the same rules come back (a SIGHUP with an unchanged file): no fresh burst.
  rl.reconfigure({ defaultRule: rule }, t0 + 100);
  assert.equal(rl.take('192.0.2.1', 100, 'drop', t0 + 100).granted, 10);
  // A smaller burst caps what a client had saved; a faster rate applies from now on.
  rl.reconfigure({ defaultRule: { ratePerSec: 1000, burst: 20 } }, t0 + 100);
  assert.equal(rl.take('192.0.2.2', 100, 'drop', t0 + 100).granted, 20);
  assert.equal(rl.take('192.0.2.2', 100, 'drop', t0 + 110).granted, 10);
  // An override that lifts the limit, then a limit again: the bucket starts at the burst.
  rl.reconfigure(
    {
      defaultRule: rule,
      overrides: [{ cidr: '192.0.2.1/32', ratePerSec: Infinity, burst: Infinity }],
    },
    t0 + 200,
  );
  assert.equal(rl.take('192.0.2.1', 1e6, 'drop', t0 + 200).granted, 1e6);
  assert.throws(() => rl.reconfigure({ overrides: [{ cidr: 'x', ratePerSec: 1, burst: 1 }] }));
  assert.equal(rl.take('192.0.2.1', 1e6, 'drop', t0 + 200).granted, 1e6, 'bad config kept old');
});

test('serve - top talkers: the busiest addresses of a window, bounded table', () => {
  const top = new TopTalkers(3);
  top.received('10.0.0.1', 5);
  top.received('10.0.0.2', 50);
  top.dropped('10.0.0.2', 7);
  top.received('10.0.0.3', 20);
  top.received('10.0.0.4', 999); // table full: counted only as untracked
  assert.equal(top.untracked, 999);
  assert.deepEqual(
    top.take(2).map((t) => [t.address, t.records, t.dropped]),
    [
      ['10.0.0.2', 50, 7],
      ['10.0.0.3', 20, 0],
    ],
  );
  assert.deepEqual(top.take(2), []); // the window was reset
});

test('serve - rate limiter table stays bounded (LRU)', () => {
  const rl = new RateLimiter({ defaultRule: { ratePerSec: 10, burst: 10 }, maxClients: 1000 });
  for (let i = 0; i < 100_000; i++)
    rl.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1, 'drop');
  assert.equal(rl.size, 1000);
});

test('serve - rates and levels parse; bad values are named', () => {
  assert.equal(parseRate('1000/s'), 1000);
  assert.equal(parseRate('60/m'), 1);
  assert.throws(() => parseRate('fast'), /--rate-limit: "fast"/);
  const f = createLevelFilter('warn');
  const rec = (level: 'info' | 'warn' | 'error') =>
    ({ level, timestamp: '', severity: 0, message: '', format: 'text' }) as const;
  const r = f.filter([rec('info'), rec('warn'), rec('error')]);
  assert.equal(r.kept.length, 2);
  assert.equal(r.dropped, 1);
});

test('serve - store encoding: a failed batch leaves nothing in the next one; lines as given', () => {
  const rec = (message: string, timestamp = '2026-03-01T08:15:02.120Z'): LogRecord => ({
    timestamp,
    level: 'info',
    severity: 9,
    message,
    format: 'text',
  });
  // Long enough that the byte writer has handed chunks over before the bad record.
  const many = Array.from({ length: 2000 }, (_, i) => rec(`m${i} ${'x'.repeat(200)}`));
  assert.throws(() => encodeBatch([...many, rec('bad', 'yesterday')], []), /not a time/);
  const ok = encodeBatch([rec('one'), rec('two')], [], [undefined, '{"pre":"encoded"}']);
  assert.equal(ok.payload.toString(), encodeRecord(rec('one')) + '\n' + '{"pre":"encoded"}\n');
  assert.equal(ok.meta.records, 2);
});
