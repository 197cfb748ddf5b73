import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { registerProtocol } from '../../src/framing/detect.js';
import { metricValue } from '../../src/telemetry/metrics.js';
import { RateLimiter } from '../../src/transforms/rate-limit.js';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { MemorySink, connectTo, endAndWait, startCollector, until } from './helpers.js';

function ndjson(tag: string, from: number, count: number, level = 'info'): string {
  let out = '';
  for (let i = from; i < from + count; i++) {
    out += `{"level":"${level}","msg":"${tag} ${i}","seq":${i}}\n`;
  }
  return out;
}

function write(socket: Socket, text: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(text, (err) => (err ? reject(err) : resolve())),
  );
}

const countOf = (sink: MemorySink, tag: string) =>
  sink.records.filter((r) => r.message.startsWith(tag + ' ')).length;

test('serve - a 10 MB line with no newline is cut off; other clients carry on', async () => {
  const { collector, sink, port } = await startCollector({ maxLineBytes: 64 * 1024 });
  try {
    const good = await connectTo(port);
    const bad = await connectTo(port);
    await write(good, ndjson('good', 0, 100));
    let reply = '';
    bad.on('data', (b: Buffer) => (reply += b.toString()));
    const closed = new Promise<void>((r) => bad.on('close', () => r()));
    bad.on('error', () => undefined);
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    (async () => {
      await write(bad, '{"msg":"');
      for (let i = 0; i < 10 && !bad.destroyed; i++) await write(bad, chunk).catch(() => undefined);
    })().catch(() => undefined);
    await closed;
    assert.match(reply, /"error":"line_too_long"/);
    await write(good, ndjson('good', 100, 100));
    await endAndWait(good);
    await until(() => countOf(sink, 'good') === 200, 5000, 'good records');
    assert.equal(sink.records.length, 200);
    assert.ok(
      (await metricValue('sluice_serve_rejected_connections_total', { reason: 'line_too_long' })) >=
        1,
    );
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

/**
 * The limiter's own decisions for one client address: when each take happened (the clock the
 * limiter itself used), how many records were asked and granted. Rates measured between
 * these times depend neither on when the test process got to run nor on batching delays.
 */
function takesOf(address: string): {
  takes: Array<{ atMs: number; asked: number; granted: number }>;
  restore: () => void;
} {
  const takes: Array<{ atMs: number; asked: number; granted: number }> = [];
  const original = RateLimiter.prototype.take;
  RateLimiter.prototype.take = function (this: RateLimiter, addr, count, policy, nowMs) {
    const atMs = nowMs ?? Date.now();
    const grant = original.call(this, addr, count, policy, atMs);
    if (addr === address) takes.push({ atMs, asked: count, granted: grant.granted });
    return grant;
  };
  return { takes, restore: () => (RateLimiter.prototype.take = original) };
}

test('serve - rate limit: a client at 10x its allowance is held to its rate; others unaffected', async () => {
  const rate = 1000;
  // A burst of two seconds: the sender may stall that long on a loaded box without the bucket
  // overflowing, so every token the limiter earns over the window is spent.
  const burst = 2 * rate;
  const { collector, sink, port } = await startCollector({
    rate: { ratePerSec: rate, burst },
    rateAction: 'drop',
    rateOverrides: [{ cidr: '127.0.0.3/32', ratePerSec: Infinity, burst: Infinity }],
  });
  const spy = takesOf('127.0.0.2');
  try {
    const noisy = await connectTo(port, '127.0.0.2');
    const fast = await connectTo(port, '127.0.0.3');
    const fastDone = (async () => {
      for (let i = 0; i < 50; i++) await write(fast, ndjson('fast', i * 1000, 1000));
      await endAndWait(fast);
    })();
    const started = Date.now();
    const ticks = 40;
    for (let tick = 0; tick < ticks; tick++) {
      await write(noisy, ndjson('noisy', tick * 1000, 1000)); // 10,000 records/s
      await new Promise((r) => setTimeout(r, started + (tick + 1) * 100 - Date.now()));
    }
    await endAndWait(noisy);
    await fastDone;
    await until(() => countOf(sink, 'fast') === 50_000, 10_000, 'fast records');
    // Drop policy: each take empties the bucket, so what passed = burst + rate x (last take -
    // first take), whatever the gaps between reads were; and what passed is what was stored.
    const { takes } = spy;
    const noisyStored = countOf(sink, 'noisy');
    assert.equal(
      noisyStored,
      takes.reduce((n, t) => n + t.granted, 0),
    );
    const windowS = (takes[takes.length - 1].atMs - takes[0].atMs) / 1000;
    assert.ok(windowS >= 2, `limiter saw the noisy client for only ${windowS} s`);
    const held = (noisyStored - burst) / windowS;
    assert.ok(
      Math.abs(held - rate) <= rate * 0.1,
      `noisy client held to ${held.toFixed(0)}/s over ${windowS.toFixed(2)} s, want ${rate}/s`,
    );
    const dropped = await metricValue('sluice_serve_dropped_records_total', {
      reason: 'rate_limited',
    });
    assert.ok(dropped >= ticks * 1000 - noisyStored, `dropped counter ${dropped}`);
  } finally {
    spy.restore();
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - rate action slow holds the client to its rate and loses nothing', async () => {
  const rate = 4000;
  const burst = rate;
  const { collector, sink, port } = await startCollector({
    rate: { ratePerSec: rate, burst },
    rateAction: 'slow',
  });
  const spy = takesOf('127.0.0.4');
  try {
    const client = await connectTo(port, '127.0.0.4');
    const total = 20_000;
    void write(client, ndjson('slow', 0, total));
    await until(() => countOf(sink, 'slow') === total, 20_000, 'all slow records');
    await endAndWait(client);
    assert.equal(countOf(sink, 'slow'), total);
    // Slow policy: a read is taken whole and the socket paused until its debt is paid, so by
    // the last take the reads before it had cost burst + rate x (last take - first take); a
    // late timer only lowers the rate by its own lateness at the last take.
    const { takes } = spy;
    assert.ok(takes.length >= 3, `only ${takes.length} reads`);
    assert.equal(
      takes.reduce((n, t) => n + t.granted, 0),
      total,
    );
    const beforeLast = total - takes[takes.length - 1].granted;
    const windowS = (takes[takes.length - 1].atMs - takes[0].atMs) / 1000;
    const held = (beforeLast - burst) / windowS;
    assert.ok(
      Math.abs(held - rate) <= rate * 0.1,
      `slow client held to ${held.toFixed(0)}/s over ${windowS.toFixed(2)} s, want ${rate}/s`,
    );
  } finally {
    spy.restore();
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - top talkers: the busiest client addresses are exported, with their drops', async () => {
  const { collector, port } = await startCollector(
    { rate: { ratePerSec: 100, burst: 100 }, rateAction: 'drop' },
    undefined,
    { topTalkerWindowMs: 500 },
  );
  try {
    const big = await connectTo(port, '127.0.0.6');
    const small = await connectTo(port, '127.0.0.7');
    await write(big, ndjson('big', 0, 3000));
    await write(small, ndjson('small', 0, 50));
    await Promise.all([endAndWait(big), endAndWait(small)]);
    // The records may straddle two windows: add the windows up as they go by.
    const sum = new Map<string, { records: number; dropped: number }>();
    let seen = collector.topTalkers();
    let window = seen;
    await until(
      () => {
        const now = collector.topTalkers();
        if (now !== seen) {
          seen = now;
          if (now.length > 0) window = now;
          for (const t of now) {
            const s = sum.get(t.address) ?? { records: 0, dropped: 0 };
            sum.set(t.address, { records: s.records + t.records, dropped: s.dropped + t.dropped });
          }
        }
        return (sum.get('127.0.0.6')?.records ?? 0) + (sum.get('127.0.0.7')?.records ?? 0) >= 3050;
      },
      5000,
      'both clients in the top-talker windows',
    );
    assert.deepEqual(sum.get('127.0.0.6')?.records, 3000);
    assert.ok((sum.get('127.0.0.6')?.dropped ?? 0) >= 2800, 'big client drops counted');
    assert.deepEqual(sum.get('127.0.0.7'), { records: 50, dropped: 0 });
    assert.ok(window[0].records >= (window[1]?.records ?? 0), 'busiest first');
    const perSec = await metricValue('sluice_serve_top_client_records_per_second', {
      client: window[0].address,
    });
    assert.equal(perSec, window[0].records / 0.5);
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - a reload keeps the buckets of open clients', async () => {
  const settings = {
    rate: { ratePerSec: 10, burst: 100 },
    rateAction: 'drop' as const,
  };
  const { collector, sink, port } = await startCollector(settings);
  try {
    const c = await connectTo(port, '127.0.0.8');
    await write(c, ndjson('before', 0, 100));
    await until(() => countOf(sink, 'before') === 100, 5000, 'the burst');
    collector.reload({ ...SERVE_DEFAULTS, ...settings });
    await write(c, ndjson('after', 0, 100));
    await endAndWait(c);
    await new Promise((r) => setTimeout(r, 200));
    // A fresh bucket would have let another 100 through; the kept one has earned ~10/s since.
    assert.ok(countOf(sink, 'after') < 50, `${countOf(sink, 'after')} passed after the reload`);
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - --min-level drops lower records and counts them by reason', async () => {
  const before = await metricValue('sluice_serve_dropped_records_total', {
    reason: 'below_min_level',
  });
  const { collector, sink, port } = await startCollector({ minLevel: 'warn' });
  try {
    const c = await connectTo(port);
    await write(c, ndjson('lvl', 0, 30, 'info') + ndjson('lvl', 30, 20, 'error'));
    await write(c, '<12>Oct 11 22:14:15 host app: a warning\n');
    await endAndWait(c);
    await until(() => sink.records.length === 21, 5000, 'kept records');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.records.length, 21);
    const after = await metricValue('sluice_serve_dropped_records_total', {
      reason: 'below_min_level',
    });
    assert.equal(after - before, 30);
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - connection limits and idle timeout cut clients off with an error line', async () => {
  const { collector, port } = await startCollector({
    maxConnectionsPerIp: 2,
    idleTimeoutMs: 300,
  });
  try {
    const a = await connectTo(port, '127.0.0.5');
    const b = await connectTo(port, '127.0.0.5');
    const third = await connectTo(port, '127.0.0.5');
    assert.match(await endAndWait(third), /"error":"max_connections_per_ip"/);
    let gotA = '';
    a.on('data', (d: Buffer) => (gotA += d.toString()));
    await new Promise<void>((r) => a.on('close', () => r()));
    assert.match(gotA, /"error":"idle_timeout"/);
    b.destroy();
    const garbage = await connectTo(port);
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10]));
    assert.match(await endAndWait(garbage), /"error":"unrecognized_framing"/);
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - a registered protocol gets SLUC connections and stores with batch dedupe', async () => {
  registerProtocol({
    name: 'test-sluc',
    magic: Buffer.from('SLUC'),
    async handle(socket: Duplex, first, ctx) {
      let text = first.subarray(4).toString();
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.resume();
      await new Promise((r) => socket.once('end', r));
      const records = text
        .split('\n')
        .filter(Boolean)
        .map((m) => ({
          timestamp: '2024-01-01T00:00:00.000Z',
          level: 'info' as const,
          severity: 9,
          message: m,
          format: 'text' as const,
        }));
      ctx.received(records.length, 0);
      const kept = await ctx.admit(records);
      const r1 = await ctx.append(kept, { batchId: 'b1' });
      const r2 = await ctx.append(kept, { batchId: 'b1' });
      socket.end(`${r1.stored} ${r2.duplicate}\n`);
    },
  });
  const { collector, sink, port } = await startCollector();
  try {
    const c = await connectTo(port);
    c.write('SLUCone\ntwo\n');
    const reply = await endAndWait(c);
    assert.equal(reply, '2 true\n');
    assert.deepEqual(
      sink.records.map((r) => r.message),
      ['one', 'two'],
    );
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - 1,000 open connections, each served fairly', async () => {
  const { collector, sink, port } = await startCollector();
  try {
    const sockets: Socket[] = [];
    for (let i = 0; i < 1000; i++) sockets.push(await connectTo(port));
    await Promise.all(sockets.map((s, i) => write(s, ndjson(`c${i}`, 0, 5))));
    await Promise.all(sockets.map((s) => endAndWait(s)));
    await until(() => sink.records.length === 5000, 20_000, '5000 records');
    for (let i = 0; i < 1000; i += 97) assert.equal(countOf(sink, `c${i}`), 5);
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});
