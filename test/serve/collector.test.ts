import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers.js';
import { decodeJson } from '../../src/record/json.js';
import type { LogRecord } from '../../src/record/record.js';
import {
  MemorySink,
  connectTo,
  endAndWait,
  startCollector,
  until,
  writePieces,
} from './helpers.js';

const CASE = '22-octet-counted-syslog-tcp';

test('serve - case 22: octet-counted syslog written in awkward pieces', async () => {
  const input = readFileSync(fixture('cases', CASE, 'input.bin'));
  const expected = JSON.parse(readFileSync(fixture('cases', CASE, 'expected.json'), 'utf8'));
  const [len1, len2] = expected.frame_lengths_bytes as number[];
  const frame2Start = String(len1).length + 1 + len1;
  const frame2Middle = frame2Start + Math.floor((String(len2).length + 1 + len2) / 2);
  const uUmlaut = input.indexOf(Buffer.from('ü', 'utf8'), frame2Start + len2);
  assert.ok(uUmlaut > 0, 'frame 3 holds a ü');
  const cuts = [2, frame2Middle, uUmlaut + 1];
  const pieces = [
    input.subarray(0, cuts[0]),
    input.subarray(cuts[0], cuts[1]),
    input.subarray(cuts[1], cuts[2]),
    input.subarray(cuts[2]),
  ];
  const { collector, sink, port } = await startCollector();
  try {
    const socket = await connectTo(port);
    await writePieces(socket, pieces);
    await endAndWait(socket);
    await until(() => sink.records.length >= 3, 5000, '3 records');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.records.length, 3);
    expected.records.forEach((want: Record<string, unknown>, i: number) => {
      const got = sink.records[i] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) {
        if (k === '_absent') for (const a of v as string[]) assert.equal(got[a], undefined, a);
        else assert.deepEqual(got[k], v, `record ${i} field ${k}`);
      }
      assert.match(String(got.source), /^tcp:\/\/127\.0\.0\.1:\d+$/);
    });
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

/** A sink with the store's fast path: records and the lines it was given for them. */
class EncodedSink extends MemorySink {
  lines: Array<string | undefined> = [];
  async appendEncoded(records: LogRecord[], lines: ReadonlyArray<string | undefined>) {
    for (let i = 0; i < records.length; i++) this.lines.push(lines[i]);
    return this.append(records);
  }
}

test('serve - NDJSON lines that already are records are stored as sent, others encoded', async () => {
  const record = {
    timestamp: '2026-03-01T08:15:02.120Z',
    level: 'warn',
    severity: 13,
    message: 'disk "almost" full',
    host: 'db1',
    format: 'json',
    syslog: { facility: 'daemon', facility_code: 3 },
    fields: { big: 12345678901234567890n, nested: { a: [1, 'x'] } },
    tags: ['prod'],
  };
  // Key order and spacing of the client's own; integers beyond 2^53 as digits.
  const asSent =
    '{ "severity": 13, "level": "warn", "timestamp": "2026-03-01T08:15:02.120Z", ' +
    '"message": "disk \\"almost\\" full", "host": "db1", "format": "json", ' +
    '"syslog": {"facility": "daemon", "facility_code": 3}, ' +
    '"fields": {"big": 12345678901234567890, "nested": {"a": [1, "x"]}}, "tags": ["prod"] }';
  const notQuite = [
    '{"timestamp":"2026-03-01T08:15:02.120Z","level":"info","severity":9,"message":"m",' +
      '"format":"json","extra":1}', // a key the schema does not have
    '{"timestamp":"2026-03-01T08:15:02Z","level":"info","severity":9,"message":"m",' +
      '"format":"json"}', // not the canonical time form
    '{"timestamp":"2026-03-01T08:15:02.120Z","level":"info","severity":13,"message":"m",' +
      '"format":"json"}', // severity of another level
    '{"timestamp":"2026-03-01T08:15:02.120Z","level":"info","severity":9,"message":"m",' +
      '"format":"json","http":{"status":"200"}}', // a number as a string
    '{"ts":"2026-03-01T08:15:02.120Z","msg":"plain app log"}',
  ];
  const sink = new EncodedSink();
  const { collector, port } = await startCollector({}, sink);
  try {
    const socket = await connectTo(port);
    socket.write([asSent, ...notQuite].join('\n') + '\n');
    await endAndWait(socket);
    await until(() => sink.records.length === 6, 5000, '6 records');
    const source = String(sink.records[0].source);
    assert.match(source, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(sink.lines[0], asSent.replace(/}$/, `,"source":"${source}"}`));
    assert.deepEqual(decodeJson(sink.lines[0] as string), { ...record, source });
    assert.deepEqual(sink.records[0], { ...record, source });
    assert.deepEqual(sink.lines.slice(1), [undefined, undefined, undefined, undefined, undefined]);
    assert.equal(sink.records[5].message, 'plain app log');
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});

test('serve - a sink that throws closes its clients, not the collector', async () => {
  class ThrowingSink extends MemorySink {
    override append(): Promise<never> {
      throw new TypeError('sink bug');
    }
  }
  const { collector, port } = await startCollector({}, new ThrowingSink());
  try {
    const socket = await connectTo(port);
    socket.write('{"msg":"one"}\n');
    await endAndWait(socket); // the collector hangs up on it
    await until(() => !collector.healthy(), 5000, 'unhealthy after the store error');
    const other = await connectTo(port); // still accepting
    other.destroy();
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});
