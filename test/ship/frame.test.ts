import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  FrameDecoder,
  FrameError,
  HEADER_BYTES,
  encodeFrame,
  encodePreamble,
  type Frame,
} from '../../src/framing/frame.js';
import { compress, decompress, DecompressError, CODECS } from '../../src/codec/codec.js';

const LIMITS = { maxFrameBytes: 1 << 20, maxUncompressedBytes: 4 << 20, expectPreamble: true };

function decodeAll(bytes: Buffer, cuts: number[] = [], decoder = new FrameDecoder(LIMITS)) {
  const frames: Frame[] = [];
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
    frames.push(...decoder.push(bytes.subarray(at, cut)));
    at = cut;
  }
  frames.push(...decoder.push(bytes.subarray(at)));
  return frames;
}

test('frame - a batch frame round-trips through the decoder', () => {
  const payload = Buffer.from('{"message":"a"}\n{"message":"b"}\n');
  const wire = Buffer.concat([
    encodePreamble(),
    encodeFrame({ type: 'hello', payload: Buffer.from('{"shipper_id":"x"}') }),
    encodeFrame({ type: 'batch', sequence: 7, payload }),
    encodeFrame({ type: 'ping', sequence: 2 ** 40 }),
  ]);
  const frames = decodeAll(wire);
  assert.deepEqual(
    frames.map((f) => [f.type, f.sequence, f.codec]),
    [
      ['hello', 0, 'none'],
      ['batch', 7, 'none'],
      ['ping', 2 ** 40, 'none'],
    ],
  );
  assert.deepEqual(frames[1].payload, payload);
});

test('frame - the same frames come out whatever the chunking', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
      fc.array(fc.nat(2000), { maxLength: 20 }),
      (payloads, cuts) => {
        const wire = Buffer.concat([
          encodePreamble(),
          ...payloads.map((p, i) =>
            encodeFrame({ type: 'batch', sequence: i, payload: Buffer.from(p) }),
          ),
        ]);
        const frames = decodeAll(wire, cuts);
        assert.equal(frames.length, payloads.length);
        frames.forEach((f, i) => assert.deepEqual(new Uint8Array(f.payload), payloads[i]));
      },
    ),
    { numRuns: 300 },
  );
});

test('frame - a CRC mismatch is refused with crc_mismatch', () => {
  const frame = encodeFrame({ type: 'batch', sequence: 1, payload: Buffer.from('hello\n') });
  frame[HEADER_BYTES + 1] ^= 0xff;
  assert.throws(
    () => decodeAll(Buffer.concat([encodePreamble(), frame])),
    (err: unknown) => err instanceof FrameError && err.code === 'crc_mismatch',
  );
});

test('frame - an oversized frame is refused from its header alone', () => {
  const header = encodeFrame({ type: 'batch', payload: Buffer.alloc(0) });
  header.writeUInt32BE(LIMITS.maxFrameBytes + 1, 12);
  header.writeUInt32BE(LIMITS.maxFrameBytes + 1, 16);
  assert.throws(
    () => decodeAll(Buffer.concat([encodePreamble(), header])),
    (err: unknown) => err instanceof FrameError && err.code === 'frame_too_large',
  );
});

test('frame - a connection without the magic is refused', () => {
  assert.throws(
    () => decodeAll(Buffer.from('GET / HTTP/1.1\r\n')),
    (err: unknown) => err instanceof FrameError && err.code === 'bad_magic',
  );
  assert.throws(
    () => decodeAll(Buffer.from('SLUC\x09')),
    (err: unknown) => err instanceof FrameError && err.code === 'unsupported_version',
  );
});

test('frame - fuzzed bytes and mutated frames either decode or fail with FrameError', () => {
  const valid = Buffer.concat([
    encodePreamble(),
    encodeFrame({ type: 'hello', payload: Buffer.from('{"a":1}') }),
    encodeFrame({
      type: 'batch',
      sequence: 3,
      codec: 'gzip',
      uncompressedBytes: 5,
      payload: gzipSync('abcde'),
    }),
  ]);
  const mutation = fc.record({
    at: fc.nat(valid.length - 1),
    value: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .uint8Array({ maxLength: 500 })
          .map((b) => Buffer.concat([encodePreamble(), Buffer.from(b)])),
        fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => {
          const copy = Buffer.from(valid);
          for (const m of ms) copy[m.at] = m.value;
          return copy;
        }),
      ),
      fc.array(fc.nat(600), { maxLength: 8 }),
      (bytes, cuts) => {
        const decoder = new FrameDecoder(LIMITS);
        try {
          decodeAll(bytes, cuts, decoder);
        } catch (err) {
          assert.ok(err instanceof FrameError, `unexpected ${String(err)}`);
        }
        // Never holds more than one header and one frame's payload.
        assert.ok(decoder.pendingBytes <= HEADER_BYTES + LIMITS.maxFrameBytes);
      },
    ),
    { numRuns: 2000 },
  );
});

test('codec - each codec round-trips', async () => {
  const payload = Buffer.from('{"level":"info","message":"GET /index.html 200"}\n'.repeat(500));
  for (const codec of CODECS) {
    for (const level of [1, 6, 9]) {
      const packed = await compress(payload, codec, level);
      if (codec !== 'none') assert.ok(packed.length < payload.length / 5, `${codec} ${level}`);
      const back = await decompress(packed, codec, payload.length, 1 << 20);
      assert.deepEqual(back, payload);
    }
  }
});

test('codec - a decompression bomb is refused at the declared size', async () => {
  // 64 MiB of zeros gzips to about 64 KiB; it claims to be 1 MiB.
  const bomb = gzipSync(Buffer.alloc(64 << 20), { level: 9 });
  assert.ok(bomb.length < 200_000);
  const before = process.memoryUsage().arrayBuffers;
  await assert.rejects(
    decompress(bomb, 'gzip', 1 << 20, 4 << 20),
    (err: unknown) => err instanceof DecompressError && err.code === 'decompressed_too_large',
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 << 20, 'inflated past the cap');
  await assert.rejects(
    decompress(bomb, 'gzip', 64 << 20, 4 << 20),
    (err: unknown) => err instanceof DecompressError && err.code === 'decompressed_too_large',
  );
  await assert.rejects(
    decompress(gzipSync('abc'), 'gzip', 10, 100),
    (err: unknown) => err instanceof DecompressError && err.code === 'decompressed_size_mismatch',
  );
  await assert.rejects(
    decompress(Buffer.from('not gzip'), 'gzip', 10, 100),
    (err: unknown) => err instanceof DecompressError && err.code === 'bad_compressed_data',
  );
});

test('session decode - integers beyond 2^53 stay exact; a non-JSON line is kept as text', async () => {
  const { decodeBatchPayload } = await import('../../src/net/frame-session.js');
  const ok = '{"timestamp":"2026-03-01T08:15:02.120Z","level":"info","severity":9,';
  const payload = Buffer.from(
    `${ok}"message":"a","format":"json","fields":{"id":9007199254740993}}\n` +
      `${ok}"message":"b","format":"json","fields":{"id":7}}\nnot json\n`,
  );
  const { records, bad } = decodeBatchPayload(payload, 'tcp://x:1');
  assert.equal(records.length, 3);
  assert.equal(records[0].fields?.id, 9007199254740993n);
  assert.equal(records[1].fields?.id, 7);
  assert.equal(bad, 1);
  assert.equal(records[2].parse_error, 'batch line is not valid JSON');
  const plain = decodeBatchPayload(Buffer.from(`${ok}"message":"c","format":"text"}\n`), 'p');
  assert.deepEqual([plain.records[0].message, plain.records[0].source, plain.bad], ['c', 'p', 0]);
});
