// The collector's syslog fast path (src/net/syslog-fast.ts, src/net/line-framer.ts) against
// the general path it stands in for (NewlineFramer + the line parser + encodeRecord): the same
// records and the same stored bytes, on the shared cases, the corpus, loggen's lines and
// generated lines with awkward bytes, for every way a stream can be cut into reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decoderFor, framerFor } from '../../src/net/decode.js';
import { NewlineFramer } from '../../src/framing/newline.js';
import { OctetCountingFramer } from '../../src/framing/octet.js';
import { ProtocolError } from '../../src/errors.js';
import { encodeRecord } from '../../src/record/json.js';
import type { LogRecord } from '../../src/record/record.js';
import type { BuiltinFraming } from '../../src/framing/detect.js';
import { connect } from 'node:net';
import { fixture, sharedCorpus, tempDir } from '../helpers.js';
import {
  MemorySink,
  connectTo,
  endAndWait,
  readStore,
  startServe,
  stop,
  writePieces,
} from './helpers.js';
import { createCollector, type CollectorSettings } from '../../src/net/collector.js';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { pino } from 'pino';

const PEER = 'tcp://127.0.0.1:40000';
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

interface Outcome {
  records: LogRecord[];
  lines: Array<string | undefined>;
  error?: string;
}

/** The stream through the collector's framer and decoder with the fast path, in reads. */
function fastPath(
  framing: BuiltinFraming,
  data: Buffer,
  cuts: number[],
  max: number,
  parse = { now: NOW } as { now: number; timezone?: string },
): Outcome {
  const framer = framerFor(framing, max);
  const decode = decoderFor(framing, PEER, parse, { encodedLines: true });
  assert.ok(decode.bytes, 'the fast decoder reads bytes');
  const records: LogRecord[] = [];
  const lines: Array<string | undefined> = [];
  const onFrame = (f: string) => decode(f, records, lines);
  const onBytes = (b: Buffer, s: number, e: number) => decode.bytes?.(b, s, e, records, lines);
  try {
    let at = 0;
    for (const c of [...cuts, data.length]) {
      framer.push(data.subarray(at, c), onFrame, onBytes);
      at = c;
    }
    framer.end(onFrame);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { records, lines, error: err.message };
  }
  return { records, lines };
}

/** The general path as the collector ran it before the fast path: text frames, the parser. */
function generalPath(
  framing: BuiltinFraming,
  data: Buffer,
  cuts: number[],
  max: number,
  parse = { now: NOW } as { now: number; timezone?: string },
): Outcome {
  const reads: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, data.length]) {
    reads.push(data.subarray(at, c));
    at = c;
  }
  const decode = decoderFor(framing, PEER, parse);
  assert.equal(decode.bytes, undefined);
  const records: LogRecord[] = [];
  const lines: Array<string | undefined> = [];
  try {
    if (framing === 'octet') {
      const octet = new OctetCountingFramer({ maxFrameBytes: max });
      const text = (f: Buffer) => {
        let end = f.length;
        if (end > 0 && f[end - 1] === 0x0a) end--;
        if (end > 0 && f[end - 1] === 0x0d) end--;
        decode(f.toString('utf8', 0, end), records, lines);
      };
      for (const r of reads) octet.push(r, text);
      octet.end(text);
    } else {
      const framer = new NewlineFramer({ maxLineBytes: max });
      const sink = (line: string, truncated: boolean) => {
        if (truncated) throw new ProtocolError(`line longer than the ${max}-byte limit`);
        if (line.length > 0) decode(line, records, lines);
      };
      for (const r of reads) framer.push(r, sink);
      framer.end(sink);
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { records, lines, error: err.message };
  }
  return { records, lines };
}

/** Asserts the fast path gave the general path's records, and lines that encode them. */
function same(fast: Outcome, general: Outcome, what: string): number {
  assert.equal(fast.error, general.error, `${what}: error`);
  assert.equal(fast.records.length, general.records.length, `${what}: record count`);
  let encoded = 0;
  for (let i = 0; i < general.records.length; i++) {
    assert.deepEqual(fast.records[i], general.records[i], `${what}: record ${i}`);
    const line = fast.lines[i];
    if (line !== undefined) {
      encoded++;
      assert.equal(line, encodeRecord(general.records[i]), `${what}: line ${i}`);
    }
  }
  return encoded;
}

/** The collector's framer without byte ranges (as the pipeline's tcp source uses it). */
function textFramerPath(framing: BuiltinFraming, data: Buffer, cuts: number[], max: number) {
  const framer = framerFor(framing, max);
  const decode = decoderFor(framing, PEER, { now: NOW });
  const records: LogRecord[] = [];
  const lines: Array<string | undefined> = [];
  const onFrame = (f: string) => decode(f, records, lines);
  try {
    let at = 0;
    for (const c of [...cuts, data.length]) {
      framer.push(data.subarray(at, c), onFrame);
      at = c;
    }
    framer.end(onFrame);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { records, lines, error: err.message };
  }
  return { records, lines };
}

function check(framing: BuiltinFraming, data: Buffer, cuts: number[], what: string, max = 1 << 18) {
  const general = generalPath(framing, data, cuts, max);
  same(textFramerPath(framing, data, cuts, max), general, `${what} (text frames)`);
  return same(fastPath(framing, data, cuts, max), general, what);
}

/** Read boundaries: none, every few bytes, and pseudo-random ones. */
function cutSets(length: number, seed: number): number[][] {
  const rnd = random(seed);
  const every = (n: number) =>
    Array.from({ length: Math.floor(length / n) }, (_, i) => (i + 1) * n);
  const randomCuts: number[] = [];
  for (let at = 0; at < length;) {
    at += 1 + Math.floor(rnd() * 300);
    if (at < length) randomCuts.push(at);
  }
  return [[], every(7), every(4096), randomCuts];
}

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (/\.(log|bin|0|json)$/.test(e.name) && !/expected/.test(e.name)) out.push(p);
  }
  return out;
}

test('serve fast path - loggen lines take the fast path and match the general path', () => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const seq = String(i).padStart(10, '0');
    const sec = String(27 + Math.floor(i / 100)).padStart(2, '0');
    lines.push(
      `<38>2026-12-03T16:53:${sec} localhost prg00000[1234]: seq: ${seq}, thread: 0000, ` +
        `runid: 1796316807, stamp: 2026-12-03T16:53:${sec} ${'PADD'.repeat(33)}`,
    );
  }
  const data = Buffer.from(lines.join('\n') + '\n');
  for (const cuts of cutSets(data.length, 7)) {
    const encoded = check('syslog', data, cuts, `loggen, ${cuts.length} cuts`);
    // The first line of a stream takes the general path (BOM); every other one the fast path.
    assert.equal(encoded, lines.length - 1);
  }
});

test('serve fast path - shared cases and corpus files give the general path records', () => {
  const files = [...filesUnder(fixture('cases')), ...filesUnder(fixture('corpus'))];
  const shared = sharedCorpus();
  if (shared) files.push(...filesUnder(join(shared, 'loghub')).filter((f) => /Linux|Mac/.test(f)));
  assert.ok(files.length > 10, 'fixture files found');
  let encoded = 0;
  for (const file of files) {
    const data = readFileSync(file);
    for (const framing of ['syslog', 'text'] as const) {
      for (const cuts of cutSets(data.length, data.length).slice(0, 3)) {
        encoded += check(framing, data, cuts, `${file} (${framing})`);
      }
    }
    // As octet-counted frames, one per line.
    const frames = data
      .toString('latin1')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => Buffer.from(`${Buffer.byteLength(l, 'latin1')} ${l}`, 'latin1'));
    encoded += check('octet', Buffer.concat(frames), [], `${file} (octet)`);
  }
  assert.ok(encoded > 100, `fast path used on the corpus (${encoded} lines)`);
});

/** Pieces of syslog lines, with the awkward ones the fast path must get right or refuse. */
const PIECES = {
  pri: ['<38>', '<0>', '<191>', '<13>', '<0013>', '<192>', '<1a>', '<>', '<38', ''],
  time3164: [
    '2026-12-03T16:53:27',
    '2026-12-03T16:53:27.123456Z',
    '2026-12-03T16:53:27+02:00',
    '2026-12-03T16:53:27-0530',
    '2026-12-03 16:53:27',
    '2026-02-30T00:00:00',
    'Oct 11 22:14:15',
    'Oct  1 22:14:15',
    'oct 1 22:14:15.5:',
    'Feb 29 2024 01:02:03',
    'Dec 31 23:59:59',
    'Jan  1 00:00:00',
    'Foo 11 22:14:15',
    '',
  ],
  time5424: ['2003-10-11T22:14:15.003Z', '-', '2003-10-11T22:14:15+01:00', '2003-10-11', ''],
  host: ['localhost', 'my-host.example', '-', '::1', 'host:', '"q"', 'h\\b', '--', 'hé', ''],
  tag: [
    'prg00000[1234]:',
    'su:',
    'sshd[007]:',
    'app[12345678901]:',
    'app[abc]:',
    '[12]:',
    'tag[12]',
    'x:',
    ':',
    'a"b:',
    'kernel',
    '',
  ],
  word: ['-', 'app', 'app:', '123', '0042', 'ID47', 'p"q', 'x\\y', ''],
  sd: ['-', '[ex@1 a="b"]', '-x', ''],
  msg: [
    'hello world',
    'say "hi" \\ back\\slash',
    'tab\there\rcr',
    'ctl \u0001\u001f\u007f',
    'non-ascii é ✓',
    'BOM\ufeffinside',
    '\ufeffBOM first',
    'invalid \udc00 lone',
    '  leading spaces',
    'key=value other=2',
    '',
  ],
};

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function generatedLine(rnd: () => number): Buffer {
  const p = PIECES;
  let text: string;
  if (rnd() < 0.5) {
    const head = `${pick(rnd, p.pri)}${pick(rnd, p.time3164)} ${pick(rnd, p.host)}`;
    text = `${head} ${pick(rnd, p.tag)} ${pick(rnd, p.msg)}`;
  } else {
    const w = () => pick(rnd, p.word);
    text =
      `${pick(rnd, p.pri)}1 ${pick(rnd, p.time5424)} ${pick(rnd, p.host)} ${w()} ${w()} ${w()} ` +
      `${pick(rnd, p.sd)} ${pick(rnd, p.msg)}`;
  }
  // Spaces doubled or dropped here and there, and now and then raw bytes.
  if (rnd() < 0.1) text = text.replace(' ', '  ');
  if (rnd() < 0.05) text = text.replace(/ (?=\S*$)/, '');
  if (rnd() < 0.05) text = text.trimEnd();
  let bytes = Buffer.from(text, 'utf8');
  if (rnd() < 0.05) bytes = Buffer.concat([bytes, Buffer.from([0xff, 0xc3, 0x41])]);
  if (rnd() < 0.05) bytes = Buffer.concat([bytes, Buffer.from([0xe2, 0x82])]);
  if (rnd() < 0.1) bytes = Buffer.concat([bytes, Buffer.from('\r')]);
  return bytes;
}

test('serve fast path - generated syslog lines with awkward bytes match the general path', () => {
  const rnd = random(20261203);
  let encoded = 0;
  for (let round = 0; round < 40; round++) {
    const lines = Array.from({ length: 100 }, () => generatedLine(rnd));
    // Lines that are not syslog now and then: they change the general parser's state.
    if (round % 4 === 1) lines.splice(50, 0, Buffer.from('key=value other=2'));
    if (round % 4 === 2) lines.splice(30, 0, Buffer.from('2026-01-01T00:00:00Z h app[12] - - - x'));
    if (round % 4 === 3) {
      lines.splice(
        20,
        0,
        Buffer.from('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1'),
      );
    }
    const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    for (const cuts of cutSets(data.length, round + 1)) {
      encoded += check('syslog', data, cuts, `round ${round}`);
    }
    const framed = Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(`${l.length} `), l])));
    encoded += check('octet', framed, [], `round ${round} (octet)`);
  }
  assert.ok(encoded > 1000, `fast path used on generated lines (${encoded})`);
});

test('serve fast path - the parser state after fast lines is the one the general path has', () => {
  // Both parsers accept this line, differently: the general parser tries the previous line's
  // format first, so it must have "seen" the fast-path lines before it.
  const ambiguous = '2026-01-01T00:00:00Z h app[12] - - - x';
  for (const before of ['<13>1 - h a - - - m', '<13>2026-01-01T00:00:00Z h t: m']) {
    const data = Buffer.from(['<13>first line', before, before, ambiguous, ''].join('\n'));
    const fast = fastPath('syslog', data, [], 1 << 16);
    const general = generalPath('syslog', data, [], 1 << 16);
    same(fast, general, before);
    assert.equal(
      fast.lines.filter((l) => l !== undefined).length,
      2,
      'two lines took the fast path',
    );
  }
});

test('serve fast path - a zone for times without one is applied as the parser applies it', () => {
  const parse = { now: NOW, timezone: 'Europe/Paris' };
  const data = Buffer.from(
    '<13>x\n<38>2026-07-01T10:00:00 h t: a\n<38>Jul  1 10:00:00 h t: b\n' +
      '<14>1 2026-07-01T10:00:00 h a - - - c\n',
  );
  const fast = fastPath('syslog', data, [], 1 << 16, parse);
  same(fast, generalPath('syslog', data, [], 1 << 16, parse), 'Europe/Paris');
  assert.equal(fast.records[1].timestamp, '2026-07-01T08:00:00.000Z');
});

test('serve fast path - long lines are cut off at the limit as before', () => {
  const max = 300;
  const ok = `<38>2026-12-03T16:53:27 h t: ${'x'.repeat(200)}`;
  const long = `<38>2026-12-03T16:53:27 h t: ${'y'.repeat(400)}`;
  const wide = `<38>2026-12-03T16:53:27 h t: ${'é'.repeat(140)}`;
  for (const lines of [
    [ok, ok, long, ok],
    [ok, wide, ok],
    [ok, ok, ok],
  ]) {
    const data = Buffer.from(lines.join('\n') + '\n');
    for (const cuts of cutSets(data.length, 3)) {
      const general = generalPath('syslog', data, cuts, max);
      same(fastPath('syslog', data, cuts, max), general, `limit ${max}, ${cuts.length} cuts`);
      same(textFramerPath('syslog', data, cuts, max), general, `limit ${max}, text frames`);
    }
  }
});

test('serve fast path - with --redact every syslog record is redacted in the store', async () => {
  const dir = tempDir('sluice-serve-fast-');
  const store = join(dir.path, 'store');
  const { child, port } = await startServe(['--store', store, '--redact', 'hipaa']);
  try {
    const phi = 'check-in completed for patient Aisha Haddad (MRN-17029888) DOB 2009-06-08';
    const lines = Array.from(
      { length: 5 },
      (_, i) => `<38>2026-12-03T16:53:2${i} localhost clinic[42]: ${phi}`,
    );
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end(lines.join('\n') + '\n'));
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await stop(child), 0);
    const records = await readStore(store);
    assert.equal(records.length, lines.length);
    for (const rec of records) {
      const text = JSON.stringify(rec);
      for (const secret of ['Aisha', 'Haddad', 'MRN-17029888', '2009-06-08']) {
        assert.ok(!text.includes(secret), `${secret} stored: ${text}`);
      }
      assert.equal(rec.format, 'syslog_rfc3164');
      assert.equal(rec.service, 'clinic');
    }
  } finally {
    await stop(child, 'SIGKILL');
    dir.cleanup();
  }
});

/** A sink that takes encoded lines, as the store writer does, and keeps what it was given. */
class EncodedSink extends MemorySink {
  lines: Array<string | undefined> = [];
  override async append(records: LogRecord[], opts: { batchId?: string } = {}) {
    for (let i = 0; i < records.length; i++) this.lines.push(undefined);
    return super.append(records, opts);
  }
  async appendEncoded(records: LogRecord[], lines: ReadonlyArray<string | undefined>) {
    for (let i = 0; i < records.length; i++) this.lines.push(lines[i]);
    return super.append(records);
  }
}

async function collectOverTcp(
  data: Buffer,
  pieceBytes: number,
  sink: MemorySink,
  encodedLines: boolean,
  minLevel: CollectorSettings['minLevel'],
): Promise<LogRecord[]> {
  const collector = createCollector({
    sink,
    settings: { ...SERVE_DEFAULTS, minLevel },
    framerFor,
    decoderFor: (framing, peer) => decoderFor(framing, peer, { now: NOW }, { encodedLines }),
    logger: pino({ level: 'silent' }),
    summaryIntervalMs: 0,
  });
  const { port } = await collector.listenTcp('127.0.0.1', 0);
  const socket = await connectTo(port);
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += pieceBytes) {
    pieces.push(data.subarray(at, at + pieceBytes));
  }
  await writePieces(socket, pieces, 0);
  await endAndWait(socket);
  await collector.close({ timeoutMs: 5000, quietMs: 100 });
  // The source names the client's port, which differs between the two connections.
  return sink.records.map((r) => ({ ...r, source: 'tcp://client' }));
}

test('serve fast path - a collector over TCP stores what the general path stores', async () => {
  const rnd = random(7);
  const lines = [
    ...Array.from({ length: 200 }, (_, i) => `<38>2026-12-03T16:53:27 localhost p[1]: seq ${i}`),
    ...Array.from({ length: 300 }, () => generatedLine(rnd).toString('latin1')),
    '<15>2026-12-03T16:53:28 localhost app[1]: a debug line',
    '<14>1 2026-12-03T16:53:29Z host app 12 ID1 - five four two four',
  ];
  const data = Buffer.from(lines.join('\n') + '\n', 'latin1');
  for (const [pieceBytes, minLevel] of [
    [65536, 'trace'],
    [97, 'info'],
  ] as const) {
    const fastSink = new EncodedSink();
    const fast = await collectOverTcp(data, pieceBytes, fastSink, true, minLevel);
    const general = await collectOverTcp(data, pieceBytes, new MemorySink(), false, minLevel);
    assert.deepEqual(fast, general, `${pieceBytes}-byte pieces, min level ${minLevel}`);
    let encoded = 0;
    fastSink.records.forEach((rec, i) => {
      const line = fastSink.lines[i];
      if (line === undefined) return;
      encoded++;
      assert.equal(line, encodeRecord(rec), `line ${i}`);
    });
    // With a level filter dropping records from a read, the read's lines are not used.
    if (minLevel === 'trace') assert.ok(encoded >= 199, `fast path used (${encoded} lines)`);
  }
});
